import CFuse
import SystemPackage

/// The one answer a request gets: each case is one `fuse_reply_*` call (fuser's `Reply*` types,
/// folded into one value so that one place sends it).
enum Reply: Equatable {
    /// `fuse_reply_err` with a nonzero errno.
    case error(Errno)
    /// `fuse_reply_err(req, 0)`: success with no payload (flush, release, unlink, ...).
    case ok
    /// `fuse_reply_entry`.
    case entry(FileAttributes, timeout: Double)
    /// `fuse_reply_attr`.
    case attributes(FileAttributes, timeout: Double)
    /// `fuse_reply_readlink`.
    case link(String)
    /// `fuse_reply_open`, for `open` and `opendir`.
    case opened(OpenReply)
    /// `fuse_reply_create`.
    case created(FileAttributes, OpenReply, timeout: Double)
    /// `fuse_reply_buf`, for `read` and `readdir`.
    case bytes([UInt8])
    /// `fuse_reply_write`.
    case written(Int)
    /// `fuse_reply_ioctl` with result 0 or `-errno`, and the bytes to copy back.
    case ioctl(IoctlReply)
    /// `fuse_reply_statfs`.
    case statistics(FilesystemStatistics)
}

/// Where replies go: libfuse in production (``LibfuseReplies``), a recorder in tests.
///
/// A class so that ``PendingReply`` can hold it `unowned(unsafe)`: a trivially destroyed field is
/// what lets a noncopyable type `discard self`, and it costs no reference counting per request.
protocol ReplySender: AnyObject, Sendable {
    /// Sends `reply` to `request`; true when libfuse delivered it (0), false when it failed, e.g.
    /// with ENOENT because the request was interrupted and its sender is gone.
    func send(_ reply: Reply, to request: fuse_req_t?) -> Bool
}

/// A request that still owes its one reply (a `fuse_req_t` before its `fuse_reply_*`).
///
/// Noncopyable: ``send(_:)`` consumes it, so the compiler rejects a second reply on any path, and
/// a reply dropped unsent answers EIO from `deinit` (as fuser's `Drop` does), so none hangs. It may
/// move to another thread and reply there: libfuse's reply calls are thread-safe.
///
/// The sender is held `unowned(unsafe)`: it must outlive the reply. ``LibfuseReplies/shared`` is
/// immortal; a test keeps its recorder alive for the test's length.
struct PendingReply: ~Copyable, @unchecked Sendable {
    private let request: fuse_req_t?
    private unowned(unsafe) let sender: any ReplySender

    init(_ request: fuse_req_t?, sender: any ReplySender) {
        self.request = request
        self.sender = sender
    }

    /// Sends the reply; true when it was delivered.
    @discardableResult
    consuming func send(_ reply: Reply) -> Bool {
        let delivered = sender.send(reply, to: request)
        discard self
        return delivered
    }

    deinit {
        _ = sender.send(.error(.ioError), to: request)
    }
}

/// Runs one request's handler and sends its result, or the errno it threw, through `pending`:
/// the only place a synchronous request is answered, as in libfuse's examples' outer functions.
/// Returns the reply when it could not be delivered, so the caller can undo what it gave away
/// (a file handle nobody will release); nil when it was.
func respond(_ pending: consuming PendingReply, _ body: () throws(Errno) -> Reply) -> Reply? {
    let reply: Reply
    do {
        reply = try body()
    } catch {
        reply = .error(error)
    }
    return pending.send(reply) ? nil : reply
}
