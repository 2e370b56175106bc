import FuseKit
import Glibc
import Synchronization
import SystemPackage

/// Where the commands of one open TPM device file go: the TPM itself (`/dev/tpm0`) or the open
/// file's own resource-manager space (`/dev/tpmrm0`, drivers/char/tpm/tpm2-space.c).
public protocol TPMCommandSink: AnyObject, Sendable {
    /// Sends one whole command and answers the TPM's whole response. A TPM that is gone or does
    /// not answer throws EIO (the sink logs why); a response is at most ``TPMDevice/bufferSize``.
    func transmit(_ command: [UInt8]) throws(Errno) -> [UInt8]
    /// The open file was released (`tpmrm_release`: the space's objects are flushed).
    func close()
}

/// A TPM character device as drivers/char/tpm/tpm-dev-common.c serves it, as a FUSE regular file
/// (FUSE cannot serve a device node): a write sends one command, reads return its response.
///
/// - A write larger than `TPM_BUFSIZE` (4096): E2BIG. Shorter than a header (6 bytes) or than
///   the header's `commandSize`: EINVAL. A second write while a response waits unread: EBUSY
///   (after a first, even partial, read a new write is accepted and drops what is left).
/// - A read returns at most what is left of the response (partial reads continue where the last
///   stopped), 0 when nothing is pending. The file offset is ignored: the driver keeps its own.
/// - O_NONBLOCK: the write succeeds and a failure of the command is the next read's errno, as
///   the driver's asynchronous path reports it; without it, the write fails with it (EIO).
/// - `/dev/tpm0` (``Kind/direct``) has one opener at a time (EBUSY for a second, `tpm_open`);
///   `/dev/tpmrm0` (``Kind/spaced``) any number, non-seekable (`nonseekable_open`: ESPIPE).
///
/// The driver answers poll with POLLIN once a response is pending; FUSE without a poll operation
/// reports every file readable. Commands complete within the write, so a response is pending
/// whenever a client that wrote polls: what tpm2-tss's device TCTI waits for.
public struct TPMDevice: Attribute {
    /// The two device files of one TPM.
    public enum Kind: Sendable {
        /// `/dev/tpm0`: commands straight to the TPM, one opener at a time.
        case direct
        /// `/dev/tpmrm0`: each open file its own space.
        case spaced
    }

    /// `TPM_BUFSIZE`: the largest command and response.
    public static let bufferSize = 4096
    /// `TPM_HEADER_SIZE`'s first fields the driver checks: tag (2) and commandSize (4).
    static let minimumCommandSize = 6

    public let kind: Kind
    /// `crw-rw----` as udev's tpm rules give both devices (group tss).
    public let permissions: UInt16 = 0o660
    public let size: UInt64 = 0
    let openSink: @Sendable () throws(Errno) -> any TPMCommandSink
    let gate: TPMOpenGate

    /// - Parameters:
    ///   - openSink: makes the sink of one new open file (a new space for ``Kind/spaced``); its
    ///     errno fails the open.
    ///   - gate: the TPM's openers, shared by its two devices.
    public init(
        _ kind: Kind, gate: TPMOpenGate, openSink: @escaping @Sendable () throws(Errno) -> any TPMCommandSink
    ) {
        self.kind = kind
        self.gate = gate
        self.openSink = openSink
    }

    public func open(flags: OpenFlags) throws(Errno) -> (any OpenFile)? {
        let ticket = try gate.admit(exclusive: kind == .direct)
        let sink: any TPMCommandSink
        do {
            sink = try openSink()
        } catch {
            gate.release(ticket)
            throw error
        }
        return TPMOpenFile(sink: sink, nonBlocking: flags.nonBlocking, nonSeekable: kind == .spaced) {
            gate.release(ticket)
        } closing: {
            gate.closing(ticket)
        } active: {
            gate.active(ticket)
        }
    }

    public func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] { throw .badFileDescriptor }
    public func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int { throw .badFileDescriptor }
}

/// One open TPM device file: the driver's `struct file_priv` (its buffer, `response_length`,
/// `response_read` and its own offset), under the driver's `buffer_mutex`.
final class TPMOpenFile: OpenFile {
    private struct State {
        var response: [UInt8] = []
        /// `*off`: where the next partial read starts.
        var position = 0
        /// `response_length`: what is left to read.
        var remaining = 0
        /// A failed command of a non-blocking write, for the next read (a negative
        /// `response_length`).
        var failure: Errno?
        /// `response_read`: true at open and after any read.
        var responseRead = true
    }

    private let state = Mutex(State())
    private let sink: any TPMCommandSink
    private let nonBlocking: Bool
    let nonSeekable: Bool
    private let onRelease: @Sendable () -> Void
    private let onClosing: @Sendable () -> Void
    private let onActive: @Sendable () -> Void

    init(
        sink: any TPMCommandSink, nonBlocking: Bool, nonSeekable: Bool, release: @escaping @Sendable () -> Void,
        closing: @escaping @Sendable () -> Void, active: @escaping @Sendable () -> Void
    ) {
        self.sink = sink
        self.nonBlocking = nonBlocking
        self.nonSeekable = nonSeekable
        self.onRelease = release
        self.onClosing = closing
        self.onActive = active
    }

    /// `tpm_common_read`.
    func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] {
        onActive()
        return try state.withLock { (state: inout State) throws(Errno) -> [UInt8] in
            if let failure = state.failure {
                state.failure = nil
                state.responseRead = true
                throw failure
            }
            var bytes: [UInt8] = []
            if state.remaining > 0 {
                state.responseRead = true
                let taken = min(count, state.remaining)
                bytes = Array(state.response[state.position..<state.position + taken])
                state.remaining -= taken
                state.position += taken
            }
            if state.remaining == 0 {
                state.position = 0
                state.response = []
            }
            return bytes
        }
    }

    /// `tpm_common_write`: the command runs before the write returns (in both modes).
    func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int {
        guard data.count <= TPMDevice.bufferSize else { throw .argListTooLong }
        onActive()
        return try state.withLock { (state: inout State) throws(Errno) -> Int in
            if !state.responseRead && (state.remaining > 0 || state.failure != nil) { throw .resourceBusy }
            let command = Array(data)
            guard command.count >= TPMDevice.minimumCommandSize,
                command.count >= Int(command[2..<6].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            else { throw .invalidArgument }
            state = State(responseRead: false)
            do throws(Errno) {
                let response = try sink.transmit(command)
                guard response.count <= TPMDevice.bufferSize else { throw .ioError }
                (state.response, state.remaining) = (response, response.count)
            } catch {
                guard nonBlocking else { throw error }
                state.failure = error
            }
            return command.count
        }
    }

    /// Every close(2) of a descriptor: the file may be about to go (see ``TPMOpenGate``).
    func flush() throws(Errno) {
        onClosing()
    }

    /// `tpm_common_release` (+ `tpm2_del_space` through the sink).
    func release() {
        sink.close()
        onRelease()
    }
}

/// The open files of one TPM's two devices: `/dev/tpm0`'s one opener (`chip->is_open`), and the
/// files whose descriptors were closed but whose release has not come yet.
///
/// FUSE sends a file's RELEASE after close(2) has returned, so a client that closes the device
/// and opens it again (each tpm2-tools command does) could find `/dev/tpm0` still held, or a space
/// not yet flushed. An open therefore waits, at most ``closingWait``, for the files whose last
/// close(2) was seen (a FLUSH) to be released; a file used again after a FLUSH (a descriptor of it
/// was duplicated) is open again and not waited for.
public final class TPMOpenGate: Sendable {
    /// How long an open waits for closed files to be released.
    public static let closingWait: Duration = .seconds(2)

    private struct State {
        var next: UInt64 = 1
        var exclusiveHolder: UInt64?
        var closing: Set<UInt64> = []
        var open: Set<UInt64> = []
        var waiting = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Admits one open; EBUSY when `exclusive` and another open file holds the device.
    func admit(exclusive: Bool) throws(Errno) -> UInt64 {
        let deadline = ContinuousClock.now.advanced(by: Self.closingWait)
        var waited = false
        defer { if waited { state.withLock { $0.waiting -= 1 } } }
        while true {
            let admitted = state.withLock { (state: inout State) -> UInt64?? in
                if !state.closing.isEmpty && ContinuousClock.now < deadline {
                    if !waited { state.waiting += 1 }
                    waited = true
                    return .some(nil)
                }
                if exclusive && state.exclusiveHolder != nil { return .none }
                let ticket = state.next
                state.next += 1
                state.open.insert(ticket)
                if exclusive { state.exclusiveHolder = ticket }
                return .some(ticket)
            }
            switch admitted {
            case .none: throw .resourceBusy
            case .some(.some(let ticket)): return ticket
            case .some(.none): usleep(1000)
            }
        }
    }

    /// How many opens wait for closed files' releases now (an observable for tests).
    public var waitingOpens: Int {
        state.withLock { $0.waiting }
    }

    func closing(_ ticket: UInt64) {
        state.withLock { state in
            if state.open.contains(ticket) { state.closing.insert(ticket) }
        }
    }

    func active(_ ticket: UInt64) {
        state.withLock { _ = $0.closing.remove(ticket) }
    }

    func release(_ ticket: UInt64) {
        state.withLock { state in
            state.open.remove(ticket)
            state.closing.remove(ticket)
            if state.exclusiveHolder == ticket { state.exclusiveHolder = nil }
        }
    }
}
