import CFuse
import Glibc
import SystemPackage

// The libfuse op table. Built in a nonisolated function in its own file: a @convention(c) closure
// written in main-actor code could touch main-actor state unchecked and then run on a worker thread.
// Each op has one outer place that replies, exactly once: `answer` (or a reply helper below).

/// Runs `body` with the request's filesystem; replies ENXIO if the session context is gone
/// (it never is while the loop runs) or the thrown errno.
@inline(__always)
private func serve(_ req: fuse_req_t?, _ body: (any FileSystemOperations) throws(Errno) -> Void) {
    guard let context = SessionContext.of(req) else {
        fuse_reply_err(req, ENXIO)
        return
    }
    do {
        try body(context.filesystem)
    } catch {
        fuse_reply_err(req, error.rawValue)
    }
}

private func name(_ cString: UnsafePointer<CChar>?) -> String {
    guard let cString else { return "" }
    return String(cString: cString)
}

private func requestContext(_ req: fuse_req_t?) -> RequestContext {
    guard let ctx = fuse_req_ctx(req) else { return RequestContext(uid: 0, gid: 0, pid: 0) }
    return RequestContext(uid: ctx.pointee.uid, gid: ctx.pointee.gid, pid: ctx.pointee.pid)
}

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

private func replyEntry(_ req: fuse_req_t?, _ attributes: FileAttributes, timeout: Double) {
    var entry = fuse_entry_param()
    entry.ino = attributes.inode.rawValue
    entry.generation = 1
    entry.attr = makeStat(attributes)
    entry.attr_timeout = timeout
    entry.entry_timeout = timeout
    fuse_reply_entry(req, &entry)
}

private func apply(_ reply: OpenReply, to fi: UnsafeMutablePointer<fuse_file_info>?) {
    guard let fi else { return }
    fi.pointee.fh = reply.handle.rawValue
    cfuse_fi_set_direct_io(fi, reply.directIO ? 1 : 0)
    cfuse_fi_set_keep_cache(fi, 0)
    cfuse_fi_set_nonseekable(fi, reply.nonSeekable ? 1 : 0)
    cfuse_fi_set_noflush(fi, reply.noFlush ? 1 : 0)
}

private func handle(_ fi: UnsafeMutablePointer<fuse_file_info>?) -> FileHandle {
    FileHandle(rawValue: fi?.pointee.fh ?? 0)
}

/// Packs directory entries from index `offset` on into at most `size` bytes, as readdir expects:
/// each entry's offset is the index of the next one.
private func packDirectory(_ req: fuse_req_t?, _ entries: [DirectoryEntry], offset: Int, size: Int) -> [CChar] {
    var buffer = [CChar](repeating: 0, count: size)
    var used = 0
    var index = max(offset, 0)
    while index < entries.count {
        let entry = entries[index]
        var st = stat()
        st.st_ino = UInt(entry.inode.rawValue)
        st.st_mode = entry.kind.typeBits
        let needed = buffer.withUnsafeMutableBufferPointer { buf -> Int in
            guard let base = buf.baseAddress else { return Int.max }
            return fuse_add_direntry(req, base + used, size - used, entry.name, &st, off_t(index + 1))
        }
        if needed > size - used { break }
        used += needed
        index += 1
    }
    buffer.removeSubrange(used...)
    return buffer
}

/// The libfuse low-level op table that forwards every request to the session's filesystem.
nonisolated func makeLowLevelOperations() -> fuse_lowlevel_ops {
    var ops = fuse_lowlevel_ops()

    ops.`init` = { userdata, conn in
        // libfuse aborts the session unless init() asks for the max_read the options gave.
        guard let userdata, let conn else { return }
        conn.pointee.max_read = Unmanaged<SessionContext>.fromOpaque(userdata).takeUnretainedValue().maxRead
    }
    ops.lookup = { req, parent, cName in
        serve(req) { fs throws(Errno) in
            let attributes = try fs.lookup(parent: InodeNumber(parent), name: name(cName))
            replyEntry(req, attributes, timeout: fs.cacheTimeout)
        }
    }
    ops.getattr = { req, ino, _ in
        serve(req) { fs throws(Errno) in
            var st = makeStat(try fs.getattr(InodeNumber(ino)))
            fuse_reply_attr(req, &st, fs.cacheTimeout)
        }
    }
    ops.setattr = { req, ino, attr, toSet, fi in
        serve(req) { fs throws(Errno) in
            var changes = AttributeChanges()
            if let attr {
                if toSet & FUSE_SET_ATTR_SIZE != 0 { changes.size = UInt64(clamping: attr.pointee.st_size) }
                if toSet & FUSE_SET_ATTR_MODE != 0 { changes.permissions = UInt16(attr.pointee.st_mode & 0o7777) }
                if toSet & FUSE_SET_ATTR_UID != 0 { changes.uid = attr.pointee.st_uid }
                if toSet & FUSE_SET_ATTR_GID != 0 { changes.gid = attr.pointee.st_gid }
            }
            let timeBits = FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME
            changes.times = toSet & timeBits != 0
            let fileHandle: FileHandle? = fi.map { FileHandle(rawValue: $0.pointee.fh) }
            var st = makeStat(try fs.setattr(InodeNumber(ino), changes: changes, handle: fileHandle))
            fuse_reply_attr(req, &st, fs.cacheTimeout)
        }
    }
    ops.readlink = { req, ino in
        serve(req) { fs throws(Errno) in
            let target = try fs.readlink(InodeNumber(ino))
            fuse_reply_readlink(req, target)
        }
    }
    ops.open = { req, ino, fi in
        serve(req) { fs throws(Errno) in
            let flags = OpenFlags(rawValue: fi?.pointee.flags ?? 0)
            let reply = try fs.open(InodeNumber(ino), flags: flags, context: requestContext(req))
            apply(reply, to: fi)
            if fuse_reply_open(req, fi) == -ENOENT {
                // The opener was interrupted and is gone: libfuse sends no release, so do it here.
                fs.release(InodeNumber(ino), handle: reply.handle)
            }
        }
    }
    ops.read = { req, ino, size, off, fi in
        serve(req) { fs throws(Errno) in
            let bytes = try fs.read(InodeNumber(ino), handle: handle(fi), offset: Int64(off), count: size)
            bytes.withUnsafeBytes { buf in _ = fuse_reply_buf(req, buf.baseAddress, buf.count) }
        }
    }
    ops.write = { req, ino, buf, size, off, fi in
        serve(req) { fs throws(Errno) in
            let data = UnsafeRawBufferPointer(start: buf, count: buf == nil ? 0 : size)
            let written = try fs.write(InodeNumber(ino), handle: handle(fi), offset: Int64(off), data: data)
            fuse_reply_write(req, written)
        }
    }
    ops.flush = { req, ino, fi in
        serve(req) { fs throws(Errno) in
            try fs.flush(InodeNumber(ino), handle: handle(fi))
            fuse_reply_err(req, 0)
        }
    }
    ops.release = { req, ino, fi in
        serve(req) { fs throws(Errno) in
            fs.release(InodeNumber(ino), handle: handle(fi))
            fuse_reply_err(req, 0)
        }
    }
    ops.fsync = { req, _, _, _ in
        fuse_reply_err(req, 0)
    }
    ops.ioctl = { req, ino, cmd, _, fi, flags, inBuf, inSize, outSize in
        serve(req) { fs throws(Errno) in
            // Restricted ioctls only: the kernel has already copied the input in.
            if flags & UInt32(FUSE_IOCTL_UNRESTRICTED) != 0 { throw .inappropriateIOCTLForDevice }
            let input = UnsafeRawBufferPointer(start: inBuf, count: inBuf == nil ? 0 : inSize)
            let output = try fs.ioctl(InodeNumber(ino), handle: handle(fi), command: cmd, input: input, outputSize: outSize)
            output.withUnsafeBytes { buf in _ = fuse_reply_ioctl(req, 0, buf.baseAddress, buf.count) }
        }
    }
    ops.opendir = { req, ino, fi in
        serve(req) { fs throws(Errno) in
            let reply = try fs.opendir(InodeNumber(ino), context: requestContext(req))
            apply(reply, to: fi)
            fuse_reply_open(req, fi)
        }
    }
    ops.readdir = { req, ino, size, off, fi in
        serve(req) { fs throws(Errno) in
            let entries = try fs.readdir(InodeNumber(ino), handle: handle(fi))
            let packed = packDirectory(req, entries, offset: Int(off), size: size)
            packed.withUnsafeBufferPointer { buf in _ = fuse_reply_buf(req, buf.baseAddress, buf.count) }
        }
    }
    ops.releasedir = { req, ino, fi in
        serve(req) { fs throws(Errno) in
            fs.releasedir(InodeNumber(ino), handle: handle(fi))
            fuse_reply_err(req, 0)
        }
    }
    ops.fsyncdir = { req, _, _, _ in
        fuse_reply_err(req, 0)
    }
    ops.statfs = { req, ino in
        serve(req) { fs throws(Errno) in
            let stats = try fs.statfs(InodeNumber(ino))
            var sv = statvfs()
            sv.f_bsize = UInt(stats.blockSize)
            sv.f_frsize = UInt(stats.blockSize)
            sv.f_namemax = UInt(stats.maximumNameLength)
            sv.f_files = UInt(stats.files)
            fuse_reply_statfs(req, &sv)
        }
    }
    ops.mkdir = { req, parent, cName, mode in
        serve(req) { fs throws(Errno) in
            let attributes = try fs.mkdir(parent: InodeNumber(parent), name: name(cName), permissions: UInt16(mode & 0o7777), context: requestContext(req))
            replyEntry(req, attributes, timeout: fs.cacheTimeout)
        }
    }
    ops.mknod = { req, parent, cName, mode, _ in
        serve(req) { fs throws(Errno) in
            let attributes = try fs.mknod(parent: InodeNumber(parent), name: name(cName), mode: mode, context: requestContext(req))
            replyEntry(req, attributes, timeout: fs.cacheTimeout)
        }
    }
    ops.create = { req, parent, cName, mode, fi in
        serve(req) { fs throws(Errno) in
            let flags = OpenFlags(rawValue: fi?.pointee.flags ?? 0)
            let (attributes, reply) = try fs.create(parent: InodeNumber(parent), name: name(cName), permissions: UInt16(mode & 0o7777), flags: flags, context: requestContext(req))
            apply(reply, to: fi)
            var entry = fuse_entry_param()
            entry.ino = attributes.inode.rawValue
            entry.generation = 1
            entry.attr = makeStat(attributes)
            entry.attr_timeout = fs.cacheTimeout
            entry.entry_timeout = fs.cacheTimeout
            fuse_reply_create(req, &entry, fi)
        }
    }
    ops.unlink = { req, parent, cName in
        serve(req) { fs throws(Errno) in
            try fs.unlink(parent: InodeNumber(parent), name: name(cName))
            fuse_reply_err(req, 0)
        }
    }
    ops.rmdir = { req, parent, cName in
        serve(req) { fs throws(Errno) in
            try fs.rmdir(parent: InodeNumber(parent), name: name(cName))
            fuse_reply_err(req, 0)
        }
    }
    ops.rename = { req, parent, cName, newParent, cNewName, _ in
        serve(req) { fs throws(Errno) in
            try fs.rename(parent: InodeNumber(parent), name: name(cName), newParent: InodeNumber(newParent), newName: name(cNewName))
            fuse_reply_err(req, 0)
        }
    }
    ops.symlink = { req, cTarget, parent, cName in
        serve(req) { fs throws(Errno) in
            let attributes = try fs.symlink(target: name(cTarget), parent: InodeNumber(parent), name: name(cName))
            replyEntry(req, attributes, timeout: fs.cacheTimeout)
        }
    }
    ops.link = { req, ino, newParent, cNewName in
        serve(req) { fs throws(Errno) in
            let attributes = try fs.link(InodeNumber(ino), newParent: InodeNumber(newParent), newName: name(cNewName))
            replyEntry(req, attributes, timeout: fs.cacheTimeout)
        }
    }
    return ops
}
