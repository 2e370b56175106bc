import CFuse
@testable import FuseKit
import Synchronization
import SystemPackage
import Testing

/// A sender that records every reply instead of calling libfuse.
final class RecordingSender: ReplySender {
    private let log = Mutex<[Reply]>([])
    private let delivers: Bool

    init(delivers: Bool = true) {
        self.delivers = delivers
    }

    var replies: [Reply] { log.withLock { $0 } }

    func send(_ reply: Reply, to request: fuse_req_t?) -> Bool {
        log.withLock { $0.append(reply) }
        return delivers
    }
}

@Suite("Reply once")
struct ReplyTests {
    let attributes = FileAttributes(inode: InodeNumber(7), kind: .regular, permissions: 0o644, size: 3)

    @Test func aHandlersResultIsSentOnce() {
        let sender = RecordingSender()
        let undelivered = respond(PendingReply(nil, sender: sender)) { () throws(Errno) in
            .entry(attributes, timeout: 2)
        }
        #expect(undelivered == nil)
        #expect(sender.replies == [.entry(attributes, timeout: 2)])
    }

    @Test func aThrownErrnoIsTheOneReply() {
        let sender = RecordingSender()
        let undelivered = respond(PendingReply(nil, sender: sender)) { () throws(Errno) -> Reply in
            throw .noSuchFileOrDirectory
        }
        #expect(undelivered == nil)
        #expect(sender.replies == [.error(.noSuchFileOrDirectory)])
    }

    @Test func anUndeliveredReplyComesBack() {
        let sender = RecordingSender(delivers: false)
        let opened = OpenReply(handle: FileHandle(rawValue: 9), directIO: true)
        let undelivered = respond(PendingReply(nil, sender: sender)) { () throws(Errno) in .opened(opened) }
        #expect(undelivered == .opened(opened))
        #expect(sender.replies == [.opened(opened)])
    }

    @Test func aDroppedReplyAnswersEIOOnce() {
        let sender = RecordingSender()
        do {
            let pending = PendingReply(nil, sender: sender)
            _ = consume pending
        }
        #expect(sender.replies == [.error(.ioError)])
    }

    @Test func aSentReplyDoesNotAnswerAgainWhenItGoes() {
        let sender = RecordingSender()
        do {
            let pending = PendingReply(nil, sender: sender)
            pending.send(.ok)
        }
        #expect(sender.replies == [.ok])
    }

    @Test func aReplyCanBeSentFromAnotherThread() async {
        let sender = RecordingSender()
        let parked = Mutex<PendingReply?>(PendingReply(nil, sender: sender))
        await Task.detached {
            let pending = parked.withLock { $0.take() }
            pending?.send(.written(5))
        }.value
        #expect(sender.replies == [.written(5)])
        #expect(parked.withLock { $0 == nil })
    }
}
