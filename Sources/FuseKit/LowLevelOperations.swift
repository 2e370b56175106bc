import CFuse
import Glibc
import SystemPackage

// The libfuse op table. Built in a nonisolated function in its own file: a @convention(c) closure
// written in main-actor code could touch main-actor state unchecked and then run on a worker thread.
//
// Reply-once by construction: every op hands `serve` a handler that returns a `Reply` (or throws an
// errno), and `serve` alone sends it, through a noncopyable `PendingReply` that a send consumes.
// No op calls a `fuse_reply_*` function itself.

/// Answers one request: looks up the session's filesystem, runs `body` with it and sends its reply
/// (ENXIO if the session context is gone, which it never is while the loop runs). Returns the
/// filesystem and the reply when libfuse could not deliver it.
@inline(__always)
@discardableResult
private func serve(
    _ req: fuse_req_t?, _ body: (any FileSystemOperations) throws(Errno) -> Reply
) -> (any FileSystemOperations, Reply)? {
    let pending = PendingReply(req, sender: LibfuseReplies.shared)
    guard let context = SessionContext.of(req) else {
        pending.send(.error(.noSuchAddressOrDevice))
        return nil
    }
    let filesystem = context.filesystem
    return respond(pending) { () throws(Errno) in try body(filesystem) }.map { (filesystem, $0) }
}

/// A name from the kernel. Names are bytes there; the filesystem's names are Swift strings, so a
/// name that is not UTF-8 is refused (EILSEQ; ENOENT for a lookup, as no such name can exist)
/// rather than converted lossily, which would make distinct names collide.
private func name(_ cString: UnsafePointer<CChar>?, invalid: Errno = .illegalByteSequence) throws(Errno) -> String {
    guard let cString else { return "" }
    guard let text = String(validatingCString: cString) else { throw invalid }
    return text
}

private func requestContext(_ req: fuse_req_t?) -> RequestContext {
    guard let ctx = fuse_req_ctx(req) else { return RequestContext(uid: 0, gid: 0, pid: 0) }
    return RequestContext(uid: ctx.pointee.uid, gid: ctx.pointee.gid, pid: ctx.pointee.pid)
}

private func handle(_ fi: UnsafeMutablePointer<fuse_file_info>?) -> FileHandle {
    FileHandle(rawValue: fi?.pointee.fh ?? 0)
}

private func openFlags(_ fi: UnsafeMutablePointer<fuse_file_info>?) -> OpenFlags {
    OpenFlags(rawValue: fi?.pointee.flags ?? 0)
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
            .entry(
                try fs.lookup(parent: InodeNumber(parent), name: try name(cName, invalid: .noSuchFileOrDirectory)),
                timeout: fs.cacheTimeout)
        }
    }
    ops.getattr = { req, ino, _ in
        serve(req) { fs throws(Errno) in .attributes(try fs.getattr(InodeNumber(ino)), timeout: fs.cacheTimeout) }
    }
    ops.setattr = { req, ino, attr, toSet, fi in
        serve(req) { fs throws(Errno) in
            let changes = AttributeChanges(attr?.pointee, toSet: toSet)
            let fileHandle: FileHandle? = fi.map { FileHandle(rawValue: $0.pointee.fh) }
            return .attributes(
                try fs.setattr(InodeNumber(ino), changes: changes, handle: fileHandle), timeout: fs.cacheTimeout)
        }
    }
    ops.readlink = { req, ino in
        serve(req) { fs throws(Errno) in .link(try fs.readlink(InodeNumber(ino))) }
    }
    ops.open = { req, ino, fi in
        let undelivered = serve(req) { fs throws(Errno) in
            .opened(try fs.open(InodeNumber(ino), flags: openFlags(fi), context: requestContext(req)))
        }
        // The opener was interrupted and is gone: libfuse sends no release, so do it here.
        if case (let fs, .opened(let reply))? = undelivered { fs.release(InodeNumber(ino), handle: reply.handle) }
    }
    ops.read = { req, ino, size, off, fi in
        serve(req) { fs throws(Errno) in
            .bytes(try fs.read(InodeNumber(ino), handle: handle(fi), offset: Int64(off), count: size))
        }
    }
    ops.write = { req, ino, buf, size, off, fi in
        serve(req) { fs throws(Errno) in
            let data = UnsafeRawBufferPointer(start: buf, count: buf == nil ? 0 : size)
            return .written(try fs.write(InodeNumber(ino), handle: handle(fi), offset: Int64(off), data: data))
        }
    }
    ops.flush = { req, ino, fi in
        serve(req) { fs throws(Errno) in
            try fs.flush(InodeNumber(ino), handle: handle(fi))
            return .ok
        }
    }
    ops.release = { req, ino, fi in
        serve(req) { fs in
            fs.release(InodeNumber(ino), handle: handle(fi))
            return .ok
        }
    }
    ops.fsync = { req, _, _, _ in
        serve(req) { _ in .ok }
    }
    ops.ioctl = { req, ino, cmd, arg, fi, flags, inBuf, inSize, outSize in
        serve(req) { fs throws(Errno) in
            // Restricted ioctls only: the kernel has already copied the input in.
            if flags & UInt32(FUSE_IOCTL_UNRESTRICTED) != 0 { throw .inappropriateIOCTLForDevice }
            let request = IoctlRequest(
                command: cmd, argument: UInt64(UInt(bitPattern: arg)),
                input: UnsafeRawBufferPointer(start: inBuf, count: inBuf == nil ? 0 : inSize),
                outputSize: outSize, context: requestContext(req))
            let reply = try fs.ioctl(InodeNumber(ino), handle: handle(fi), request: request)
            // More than the kernel asked for would fail the whole ioctl with EIO.
            guard reply.output.count <= outSize else { throw .invalidArgument }
            return .ioctl(reply)
        }
    }
    ops.opendir = { req, ino, fi in
        let undelivered = serve(req) { fs throws(Errno) in
            .opened(try fs.opendir(InodeNumber(ino), context: requestContext(req)))
        }
        if case (let fs, .opened(let reply))? = undelivered { fs.releasedir(InodeNumber(ino), handle: reply.handle) }
    }
    ops.readdir = { req, ino, size, off, fi in
        serve(req) { fs throws(Errno) in
            let entries = try fs.readdir(InodeNumber(ino), handle: handle(fi))
            return .bytes(packDirectory(entries, offset: Int(off), size: size, request: req))
        }
    }
    ops.releasedir = { req, ino, fi in
        serve(req) { fs in
            fs.releasedir(InodeNumber(ino), handle: handle(fi))
            return .ok
        }
    }
    ops.fsyncdir = { req, _, _, _ in
        serve(req) { _ in .ok }
    }
    ops.statfs = { req, ino in
        serve(req) { fs throws(Errno) in .statistics(try fs.statfs(InodeNumber(ino))) }
    }
    ops.mkdir = { req, parent, cName, mode in
        serve(req) { fs throws(Errno) in
            let attributes = try fs.mkdir(
                parent: InodeNumber(parent), name: try name(cName), permissions: UInt16(mode & 0o7777),
                context: requestContext(req))
            return .entry(attributes, timeout: fs.cacheTimeout)
        }
    }
    ops.mknod = { req, parent, cName, mode, _ in
        serve(req) { fs throws(Errno) in
            let attributes = try fs.mknod(
                parent: InodeNumber(parent), name: try name(cName), mode: mode, context: requestContext(req))
            return .entry(attributes, timeout: fs.cacheTimeout)
        }
    }
    ops.create = { req, parent, cName, mode, fi in
        let undelivered = serve(req) { fs throws(Errno) in
            let (attributes, reply) = try fs.create(
                parent: InodeNumber(parent), name: try name(cName), permissions: UInt16(mode & 0o7777),
                flags: openFlags(fi), context: requestContext(req))
            return .created(attributes, reply, timeout: fs.cacheTimeout)
        }
        if case (let fs, .created(let attributes, let reply, _))? = undelivered {
            fs.release(attributes.inode, handle: reply.handle)
        }
    }
    ops.unlink = { req, parent, cName in
        serve(req) { fs throws(Errno) in
            try fs.unlink(parent: InodeNumber(parent), name: try name(cName))
            return .ok
        }
    }
    ops.rmdir = { req, parent, cName in
        serve(req) { fs throws(Errno) in
            try fs.rmdir(parent: InodeNumber(parent), name: try name(cName))
            return .ok
        }
    }
    ops.rename = { req, parent, cName, newParent, cNewName, _ in
        serve(req) { fs throws(Errno) in
            try fs.rename(
                parent: InodeNumber(parent), name: try name(cName), newParent: InodeNumber(newParent),
                newName: try name(cNewName))
            return .ok
        }
    }
    ops.symlink = { req, cTarget, parent, cName in
        serve(req) { fs throws(Errno) in
            .entry(
                try fs.symlink(target: try name(cTarget), parent: InodeNumber(parent), name: try name(cName)),
                timeout: fs.cacheTimeout)
        }
    }
    ops.link = { req, ino, newParent, cNewName in
        serve(req) { fs throws(Errno) in
            .entry(
                try fs.link(InodeNumber(ino), newParent: InodeNumber(newParent), newName: try name(cNewName)),
                timeout: fs.cacheTimeout)
        }
    }
    return ops
}
