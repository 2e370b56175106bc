import Glibc
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Hummingbird's HTTP/1.1 child channel with the idle timeout of ``ServiceLimits`` and
/// ``ConnectionCloseHandler`` between NIOHTTP1's decoder and Hummingbird's HTTPTypes codec,
/// where the request's HTTP version is still known.
struct ServiceChannel: HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value
    let inner: HTTP1Channel

    init(responder: @escaping HTTPChannelHandler.Responder, limits: ServiceLimits) {
        inner = HTTP1Channel(
            responder: responder, configuration: .init(idleTimeout: .seconds(Int64(limits.idleTimeout))))
    }

    var responder: HTTPChannelHandler.Responder { inner.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // After NIOHTTP1's pipelining handler when there is one (it passes one request at a
            // time), else after its decoder: either way before the HTTPTypes codec.
            let pipeline = channel.pipeline.syncOperations
            let last: any ChannelHandler
            if let assistant = try? pipeline.handler(type: HTTPServerPipelineHandler.self) {
                last = assistant
            } else {
                last = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            }
            try pipeline.addHandler(ConnectionCloseHandler(), position: .after(last))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// Closes the connection after the response to a request that does not keep it alive (RFC 9112
/// 9.3: HTTP/1.0 without `Connection: keep-alive`, or `Connection: close`), and says so in the
/// response's `Connection` header. Hummingbird's HTTPTypes requests carry no version, so without
/// this an HTTP/1.0 client reading to the end of the stream waits for the idle timeout.
final class ConnectionCloseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var keepAlive = true

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) { keepAlive = head.isKeepAlive }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where !keepAlive:
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end where !keepAlive:
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.futureResult.whenComplete { _ in loopBound.value.close(promise: nil) }
            context.write(data, promise: written)
        default:
            context.write(data, promise: promise)
        }
    }
}

/// Stops accepting for a moment when accept(2) fails for want of descriptors or memory.
///
/// swift-nio 2.101.3's `AcceptBackoffHandler`, which its async server bootstrap (and so
/// Hummingbird 2.28.1) installs, never gets to back off there: `ServerSocketChannel.readFromSocket`
/// throws EMFILE before it clears `readPending`, so the channel stays registered for readable,
/// `readIfNeeded0` issues no `read()` for the handler to delay, and the level-triggered listening
/// socket (its backlog still full) wakes the loop again at once: a spin of failing accept4 until
/// the clients leave. This handler, first in the server pipeline, turns `autoRead` off (which
/// unregisters the socket from epoll) and on again after ``pause``.
final class AcceptPauseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    /// How long accepting pauses after such a failure.
    static let pause = TimeAmount.milliseconds(500)

    private var paused = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? IOError, [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode), !paused {
            paused = true
            let channel = context.channel
            _ = try? channel.syncOptions?.setOption(.autoRead, value: false)
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: Self.pause) {
                loopBound.value.paused = false
                _ = try? channel.syncOptions?.setOption(.autoRead, value: true)
            }
        }
        context.fireErrorCaught(error)
    }
}
