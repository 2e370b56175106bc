import CFuse
import Glibc

/// The production ``ReplySender``: turns each ``Reply`` into its `fuse_reply_*` call. Stateless
/// and immortal (``shared``), as ``PendingReply``'s unowned reference needs.
final class LibfuseReplies: ReplySender {
    static let shared = LibfuseReplies()

    private init() {}

    func send(_ reply: Reply, to request: fuse_req_t?) -> Bool {
        let result: Int32
        switch reply {
        case .error(let errno):
            result = fuse_reply_err(request, errno.rawValue)
        case .ok:
            result = fuse_reply_err(request, 0)
        case .entry(let attributes, let timeout):
            var entry = makeEntry(attributes, timeout: timeout)
            result = fuse_reply_entry(request, &entry)
        case .attributes(let attributes, let timeout):
            var st = makeStat(attributes)
            result = fuse_reply_attr(request, &st, timeout)
        case .link(let target):
            result = fuse_reply_readlink(request, target)
        case .opened(let opened):
            // fuse_reply_open reads only the reply fields of fuse_file_info, so a fresh one will
            // do: a reply sent later, on another thread, never needs the request's.
            var info = makeFileInfo(opened)
            result = fuse_reply_open(request, &info)
        case .created(let attributes, let opened, let timeout):
            var entry = makeEntry(attributes, timeout: timeout)
            var info = makeFileInfo(opened)
            result = fuse_reply_create(request, &entry, &info)
        case .bytes(let bytes):
            result = bytes.withUnsafeBytes { fuse_reply_buf(request, $0.baseAddress, $0.count) }
        case .written(let count):
            result = fuse_reply_write(request, count)
        case .ioctl(let reply):
            let status = reply.error.map { -$0.rawValue } ?? 0
            result = reply.output.withUnsafeBytes { fuse_reply_ioctl(request, status, $0.baseAddress, $0.count) }
        case .statistics(let statistics):
            var sv = makeStatvfs(statistics)
            result = fuse_reply_statfs(request, &sv)
        }
        return result == 0
    }
}

/// The `struct stat` of `getattr` and `lookup` replies.
func makeStat(_ attributes: FileAttributes) -> stat {
    var st = stat()
    st.st_ino = UInt(attributes.inode.rawValue)
    st.st_mode = attributes.kind.typeBits | UInt32(attributes.permissions & 0o7777)
    st.st_nlink = UInt(attributes.linkCount)
    st.st_uid = attributes.uid
    st.st_gid = attributes.gid
    st.st_size = Int(clamping: attributes.size)
    st.st_blksize = 4096
    st.st_blocks = 0
    let time = timespec(tv_sec: Int(attributes.time), tv_nsec: 0)
    st.st_atim = time
    st.st_mtim = time
    st.st_ctim = time
    return st
}

/// The `fuse_entry_param` of `lookup`, `mkdir`, `create` and the other replies naming a node.
func makeEntry(_ attributes: FileAttributes, timeout: Double) -> fuse_entry_param {
    var entry = fuse_entry_param()
    entry.ino = attributes.inode.rawValue
    entry.generation = 1
    entry.attr = makeStat(attributes)
    entry.attr_timeout = timeout
    entry.entry_timeout = timeout
    return entry
}

/// The reply fields of `fuse_file_info` (`fh` and the `FOPEN_*` bits) for an open reply.
func makeFileInfo(_ opened: OpenReply) -> fuse_file_info {
    var info = fuse_file_info()
    info.fh = opened.handle.rawValue
    cfuse_fi_set_direct_io(&info, opened.directIO ? 1 : 0)
    cfuse_fi_set_keep_cache(&info, opened.keepCache ? 1 : 0)
    cfuse_fi_set_nonseekable(&info, opened.nonSeekable ? 1 : 0)
    cfuse_fi_set_noflush(&info, opened.noFlush ? 1 : 0)
    return info
}

/// The `struct statvfs` of a `statfs` reply.
func makeStatvfs(_ statistics: FilesystemStatistics) -> statvfs {
    var sv = statvfs()
    sv.f_bsize = UInt(statistics.blockSize)
    sv.f_frsize = UInt(statistics.blockSize)
    sv.f_namemax = UInt(statistics.maximumNameLength)
    sv.f_files = UInt(statistics.files)
    return sv
}
