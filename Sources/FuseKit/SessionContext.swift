import CFuse

/// What every libfuse callback needs, passed as the session's userdata. Immutable and `Sendable`:
/// callbacks run on libfuse's worker threads.
final class SessionContext: Sendable {
    let filesystem: any FileSystemOperations

    init(filesystem: any FileSystemOperations) {
        self.filesystem = filesystem
    }

    /// The context of the session a request belongs to.
    static func of(_ req: fuse_req_t?) -> SessionContext? {
        guard let req, let raw = fuse_req_userdata(req) else { return nil }
        return Unmanaged<SessionContext>.fromOpaque(raw).takeUnretainedValue()
    }
}
