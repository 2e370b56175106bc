import SystemPackage

/// A failed register read or write, and the one place that says which errno each failure gives.
public enum MRError: Error, Equatable, Sendable {
    /// Not exactly `mr_size` bytes at offset 0 (tsm-mr's write check): EINVAL.
    case invalidWrite
    /// A write at or past the end of the attribute (kernfs): EFBIG.
    case writePastEnd
    /// The register's mode lacks the access (sysfs open check, root included): EACCES.
    case accessDenied
    /// The backend failed; its errno reaches the caller unchanged (ENXIO, EBUSY, EIO, ...).
    case backend(Errno)

    /// What a system call answers for this failure.
    public var errno: Errno {
        switch self {
        case .invalidWrite: return .invalidArgument
        case .writePastEnd: return .fileTooLarge
        case .accessDenied: return .permissionDenied
        case .backend(let errno): return errno
        }
    }
}
