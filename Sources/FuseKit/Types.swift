import SystemPackage

/// An inode number as the kernel sees it (`fuse_ino_t`). The root of every mount is ``root`` (1).
public struct InodeNumber: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    /// `FUSE_ROOT_ID`.
    public static let root = InodeNumber(1)
    public var description: String { "#\(rawValue)" }
}

/// The file handle a filesystem hands back from `open`/`opendir` (`fuse_file_info.fh`).
public struct FileHandle: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let none = FileHandle(rawValue: 0)
}

/// The kind of a node, as the type bits of `st_mode` and of a directory entry.
public enum FileKind: Sendable, Equatable {
    case directory
    case regular
    case symbolicLink

    var typeBits: UInt32 {
        switch self {
        case .directory: return 0o040000
        case .regular: return 0o100000
        case .symbolicLink: return 0o120000
        }
    }
}

/// What `getattr` and `lookup` answer: the parts of `struct stat` a synthetic filesystem sets.
public struct FileAttributes: Sendable, Equatable {
    public var inode: InodeNumber
    public var kind: FileKind
    /// Permission bits only (0o7777); the type comes from ``kind``.
    public var permissions: UInt16
    public var size: UInt64
    public var linkCount: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Seconds since the epoch, used for atime, mtime and ctime alike.
    public var time: Int64

    public init(
        inode: InodeNumber, kind: FileKind, permissions: UInt16, size: UInt64,
        linkCount: UInt32 = 1, uid: UInt32 = 0, gid: UInt32 = 0, time: Int64 = 0
    ) {
        self.inode = inode
        self.kind = kind
        self.permissions = permissions
        self.size = size
        self.linkCount = linkCount
        self.uid = uid
        self.gid = gid
        self.time = time
    }
}

/// The access mode and the flags of an `open(2)` that a filesystem may care about.
public struct OpenFlags: RawRepresentable, Sendable, Equatable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    private static let accessMask: Int32 = 0o3
    public var wantsRead: Bool { rawValue & Self.accessMask != 0o1 }
    public var wantsWrite: Bool { rawValue & Self.accessMask != 0o0 }
    public var append: Bool { rawValue & 0o2000 != 0 }
    public var truncate: Bool { rawValue & 0o1000 != 0 }
    /// `O_NONBLOCK`, as the open gave it (a later `fcntl(F_SETFL)` does not reach FUSE).
    public var nonBlocking: Bool { rawValue & 0o4000 != 0 }
}

/// Who sent a request (`fuse_req_ctx`).
public struct RequestContext: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: Int32
    public init(uid: UInt32, gid: UInt32, pid: Int32) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
    }
}

/// How an opened file is served: the answer to `open`, `opendir` and `create`.
public struct OpenReply: Sendable, Equatable {
    public var handle: FileHandle
    /// Bypass the page cache: every read and write reaches the filesystem.
    public var directIO: Bool
    public var nonSeekable: Bool
    /// close(2) sends no FLUSH: for files whose flush does nothing (FOPEN_NOFLUSH).
    public var noFlush: Bool
    /// Keep the pages the kernel cached for this inode (FOPEN_KEEP_CACHE): reads are served from
    /// the page cache until the filesystem invalidates them (``InodeInvalidator``). Without it,
    /// each open drops the inode's cached pages. Meaningless with ``directIO``.
    public var keepCache: Bool
    public init(
        handle: FileHandle = .none, directIO: Bool = false, nonSeekable: Bool = false, noFlush: Bool = false,
        keepCache: Bool = false
    ) {
        self.handle = handle
        self.directIO = directIO
        self.nonSeekable = nonSeekable
        self.noFlush = noFlush
        self.keepCache = keepCache
    }
}

/// One entry of a directory listing, `.` and `..` included when the filesystem lists them.
public struct DirectoryEntry: Sendable, Equatable {
    public var name: String
    public var inode: InodeNumber
    public var kind: FileKind
    public init(name: String, inode: InodeNumber, kind: FileKind) {
        self.name = name
        self.inode = inode
        self.kind = kind
    }
}

/// The attribute changes a `setattr` asks for (`FUSE_SET_ATTR_*`).
public struct AttributeChanges: Sendable, Equatable {
    public var size: UInt64?
    public var permissions: UInt16?
    public var uid: UInt32?
    public var gid: UInt32?
    public var times: Bool
    public init(
        size: UInt64? = nil, permissions: UInt16? = nil, uid: UInt32? = nil, gid: UInt32? = nil, times: Bool = false
    ) {
        self.size = size
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.times = times
    }
}

/// What `statfs` answers.
public struct FilesystemStatistics: Sendable, Equatable {
    public var blockSize: UInt64
    public var maximumNameLength: UInt64
    public var files: UInt64
    public init(blockSize: UInt64 = 4096, maximumNameLength: UInt64 = 255, files: UInt64 = 0) {
        self.blockSize = blockSize
        self.maximumNameLength = maximumNameLength
        self.files = files
    }
}
