import CFuse

/// What every libfuse callback needs, passed as the session's userdata. Immutable and `Sendable`:
/// callbacks run on libfuse's worker threads.
final class SessionContext: Sendable {
    let filesystem: any FileSystemOperations
    /// The `max_read` mount option, 0 when not given.
    let maxRead: UInt32

    init(filesystem: any FileSystemOperations, maxRead: UInt32 = 0) {
        self.filesystem = filesystem
        self.maxRead = maxRead
    }

    /// The context of the session a request belongs to.
    static func of(_ req: fuse_req_t?) -> SessionContext? {
        guard let req, let raw = fuse_req_userdata(req) else { return nil }
        return Unmanaged<SessionContext>.fromOpaque(raw).takeUnretainedValue()
    }
}
