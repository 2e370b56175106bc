import CFuse
import Glibc

// Request arguments in libfuse's C shapes, turned into FuseKit's types, and directory listings
// turned back into readdir's wire format. Pure functions: tested without a mount.

extension AttributeChanges {
    /// The changes a `setattr` asks for: the fields of `attr` that `toSet` (`FUSE_SET_ATTR_*`)
    /// names; any time bit sets ``times``.
    init(_ attr: stat?, toSet: Int32) {
        self.init()
        if let attr {
            if toSet & FUSE_SET_ATTR_SIZE != 0 { size = UInt64(clamping: attr.st_size) }
            if toSet & FUSE_SET_ATTR_MODE != 0 { permissions = UInt16(attr.st_mode & 0o7777) }
            if toSet & FUSE_SET_ATTR_UID != 0 { uid = attr.st_uid }
            if toSet & FUSE_SET_ATTR_GID != 0 { gid = attr.st_gid }
        }
        let timeBits =
            FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW
            | FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME
        times = toSet & timeBits != 0
    }
}

/// Packs directory entries from index `offset` on into at most `size` bytes with
/// `fuse_add_direntry`, as readdir expects: each entry's offset is the index of the next one, so a
/// listing resumes where the kernel's buffer filled. libfuse ignores `request` (tests pass nil).
func packDirectory(_ entries: [DirectoryEntry], offset: Int, size: Int, request: fuse_req_t? = nil) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: max(size, 0))
    var used = 0
    var index = max(offset, 0)
    while index < entries.count {
        let entry = entries[index]
        var st = stat()
        st.st_ino = UInt(entry.inode.rawValue)
        st.st_mode = entry.kind.typeBits
        let needed = buffer.withUnsafeMutableBytes { bytes -> Int in
            guard let base = bytes.baseAddress else { return Int.max }
            let start = (base + used).assumingMemoryBound(to: CChar.self)
            return fuse_add_direntry(request, start, bytes.count - used, entry.name, &st, off_t(index + 1))
        }
        if needed > buffer.count - used { break }
        used += needed
        index += 1
    }
    buffer.removeSubrange(used...)
    return buffer
}
