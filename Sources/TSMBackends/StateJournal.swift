import Crypto
import Glibc
import Synchronization
import SystemPackage
import TSMBytes
import TSMModel

/// `--state FILE`: an append-only journal of register changes with checksummed records, made
/// durable (written and fsync'd) before each change takes effect.
///
/// Layout (format 2): an 80-byte header — magic `TSMFSJ02`, the 32-byte fingerprint of the
/// provider set, 32 reserved bytes, and 8 bytes of SHA-256 over the rest — then records: a u32
/// payload length and 4 bytes of SHA-256 over that length, the payload (kind u8, provider name
/// length u16 and name, register u16, data length u16 and data), and 8 bytes of SHA-256 over
/// length and payload. The length's own check tells a torn tail from damage: only a last record
/// that the file ends before (a write a crash cut short, never acknowledged) is cut off at start;
/// any other damage, the last complete record included, refuses the file and leaves it as it was.
///
/// The file is opened without following links and must be a regular file; a new one is created
/// exclusively, 0600. An exclusive `flock` held for the journal's life refuses a second daemon.
public final class StateJournal: ChangeJournal {
    static let magic = Array("TSMFSJ02".utf8)
    /// Format 1 (tsmfs 0.1): records without a check of their length.
    static let formerMagic = Array("TSMFSJ01".utf8)
    static let headerSize = 80
    /// A record's length, its check, and its checksum.
    static let recordOverhead = 16
    /// No record is longer: a provider name and one register of at most 4096 bytes.
    static let maximumPayload = 16384

    public let path: String
    private let descriptor: Mutex<Int32>

    /// Opens (or creates) the journal for the provider set whose fingerprint is given, checks it,
    /// cuts off a torn tail, and returns the changes to replay.
    public static func open(_ path: String, fingerprint: [UInt8]) throws(Failure) -> (StateJournal, Recovery) {
        let fd = try openExclusively(path)
        do throws(Failure) {
            let bytes = try readAll(fd, path: path)
            var recovery = Recovery(path: path, changes: [], discardedBytes: 0, created: bytes.isEmpty)
            if bytes.isEmpty {
                try writeAll(fd, header(fingerprint), path: path)
                try sync(fd, path: path)
                try syncDirectory(of: path)
            } else {
                let (changes, validLength) = try parse(bytes, fingerprint: fingerprint, path: path)
                recovery.changes = changes
                recovery.discardedBytes = bytes.count - validLength
                if recovery.discardedBytes > 0 {
                    guard ftruncate(fd, off_t(validLength)) == 0 else {
                        throw .cannotCutOff(path: path, Errno(rawValue: errno))
                    }
                    try sync(fd, path: path)
                }
            }
            guard lseek(fd, 0, SEEK_END) >= 0 else { throw .cannotSeek(path: path, Errno(rawValue: errno)) }
            return (StateJournal(path: path, descriptor: fd), recovery)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = Mutex(descriptor)
    }

    deinit {
        close()
    }

    /// Closes the file and releases its lock (the daemon keeps it for its life; tests close it
    /// to reopen). Later records fail with EBADF.
    public func close() {
        descriptor.withLock { fd in
            if fd >= 0 { Glibc.close(fd) }
            fd = -1
        }
    }

    /// The fingerprint of a provider set: SHA-256 of its JSON form and what else shapes the model.
    /// The largest state file read (a journal grows by about 70 bytes a change).
    public static let maximumSize = 64 << 20

    public static func fingerprint(_ providers: [ProviderDescriptor], context: String) -> [UInt8] {
        Array(SHA256.hash(data: Array((ProviderConfig.encode(providers) + "\n" + context).utf8)))
    }

    /// Appends the change and fsyncs; EIO, ENOSPC, ... from the disk fail the write.
    public func record(_ change: RegisterChange) throws(MRError) {
        let bytes = Self.encode(change)
        try descriptor.withLock { (fd: inout Int32) throws(MRError) in
            guard fd >= 0 else { throw .backend(.badFileDescriptor) }
            let end = lseek(fd, 0, SEEK_END)
            do {
                try Self.writeAll(fd, bytes, path: path)
                try Self.sync(fd, path: path)
            } catch {
                let code = Errno(rawValue: errno == 0 ? EIO : errno)
                if end >= 0 { _ = ftruncate(fd, end) }
                throw .backend(code)
            }
        }
    }

    // MARK: Format

    static func checksum(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: Array(bytes)).prefix(8))
    }

    static func header(_ fingerprint: [UInt8]) -> [UInt8] {
        let body = magic + fingerprint + [UInt8](repeating: 0, count: 32)
        return body + checksum(body[...])
    }

    /// The check of a record's length field: the first 4 bytes of its SHA-256.
    static func lengthCheck(_ length: ArraySlice<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: Array(length)).prefix(4))
    }

    static func encode(_ change: RegisterChange) -> [UInt8] {
        let name = Array(change.provider.utf8)
        var payload = ByteWriter()
        payload.u8(change.kind.rawValue)
        payload.u16(UInt16(truncatingIfNeeded: name.count))
        payload.append(name)
        payload.u16(UInt16(truncatingIfNeeded: change.register))
        payload.u16(UInt16(truncatingIfNeeded: change.data.count))
        payload.append(change.data)
        let length = UInt32(truncatingIfNeeded: payload.bytes.count).littleEndianBytes
        return length + lengthCheck(length[...]) + payload.bytes + checksum((length + payload.bytes)[...])
    }

    static func parse(_ bytes: [UInt8], fingerprint: [UInt8], path: String) throws(Failure) -> ([RegisterChange], Int) {
        if bytes.count >= formerMagic.count, Array(bytes[0..<formerMagic.count]) == formerMagic {
            throw .formerFormat(path: path)
        }
        guard bytes.count >= headerSize, Array(bytes[0..<8]) == magic,
            checksum(bytes[0..<72]) == Array(bytes[72..<80])
        else {
            throw .notAStateFile(path: path)
        }
        guard Array(bytes[8..<40]) == fingerprint else {
            throw .otherProviderSet(path: path)
        }
        var changes: [RegisterChange] = []
        var offset = headerSize
        while offset < bytes.count {
            // A length field and its check not wholly written: the tail a crash tore.
            guard bytes.count - offset >= 8 else { break }
            let lengthField = bytes[offset..<(offset + 4)]
            guard lengthCheck(lengthField) == Array(bytes[(offset + 4)..<(offset + 8)]) else {
                throw .damagedRecord(path: path, offset: offset)
            }
            let length = Int(UInt32(littleEndianBytes: lengthField))
            guard length <= maximumPayload else { throw .damagedRecord(path: path, offset: offset) }
            let end = offset + 8 + length
            // A record the file ends before, its length intact: the tail a crash tore.
            guard end + 8 <= bytes.count else { break }
            guard checksum((Array(lengthField) + bytes[(offset + 8)..<end])[...]) == Array(bytes[end..<(end + 8)])
            else {
                throw .damagedRecord(path: path, offset: offset)
            }
            guard let change = decode(Array(bytes[(offset + 8)..<end])) else {
                throw .undecodableRecord(path: path, offset: offset)
            }
            changes.append(change)
            offset = end + 8
        }
        return (changes, offset)
    }

    static func decode(_ payload: [UInt8]) -> RegisterChange? {
        guard payload.count >= 7, let kind = RegisterChange.Kind(rawValue: payload[0]) else { return nil }
        let nameLength = Int(UInt16(littleEndianBytes: payload[1..<3]))
        guard payload.count >= 7 + nameLength else { return nil }
        let name = String(decoding: payload[3..<(3 + nameLength)], as: UTF8.self)
        var index = 3 + nameLength
        let register = Int(UInt16(littleEndianBytes: payload[index..<(index + 2)]))
        let dataLength = Int(UInt16(littleEndianBytes: payload[(index + 2)..<(index + 4)]))
        index += 4
        guard payload.count == index + dataLength else { return nil }
        return RegisterChange(provider: name, register: register, kind: kind, data: Array(payload[index...]))
    }

    // MARK: I/O

    /// Opens `path` read-write without following a link (O_NOFOLLOW; O_NONBLOCK so that a FIFO
    /// cannot hang the start), creating it exclusively (0600) when missing; refuses anything but
    /// a regular file, and takes the exclusive lock.
    private static func openExclusively(_ path: String) throws(Failure) -> Int32 {
        var fd = Glibc.open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 && errno == ENOENT {
            fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
        }
        guard fd >= 0 else {
            if errno == ELOOP { throw .symbolicLink(path: path) }
            if errno == EISDIR { throw .notRegularFile(path: path) }
            throw .cannotOpen(path: path, Errno(rawValue: errno))
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let error = Errno(rawValue: errno)
            Glibc.close(fd)
            throw .cannotOpen(path: path, error)
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(fd)
            throw .notRegularFile(path: path)
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let error = Errno(rawValue: errno)
            Glibc.close(fd)
            if error == .wouldBlock { throw .inUse(path: path, holder: lockHolder(inode: UInt64(st.st_ino))) }
            throw .cannotOpen(path: path, error)
        }
        return fd
    }

    /// The process holding an flock on `inode`, from `/proc/locks` (flock cannot say).
    static func lockHolder(inode: UInt64) -> Int32? {
        guard let bytes = try? FileBytes.read(path: "/proc/locks", limit: 1 << 20) else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"
            let fields = line.split(separator: " ")
            guard fields.count >= 6, fields[1] == "FLOCK", let pid = Int32(fields[4]),
                fields[5].split(separator: ":").last.flatMap({ UInt64($0) }) == inode
            else { continue }
            return pid
        }
        return nil
    }

    private static func readAll(_ fd: Int32, path: String) throws(Failure) -> [UInt8] {
        do {
            return try FileBytes.read(descriptor: fd, path: path, limit: maximumSize)
        } catch {
            throw .cannotRead(path: path, Errno(rawValue: error.errno))
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(Failure) {
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw .cannotWrite(path: path, Errno(rawValue: errno)) }
            written += count
        }
    }

    private static func sync(_ fd: Int32, path: String) throws(Failure) {
        guard fsync(fd) == 0 else { throw .cannotSync(path: path, Errno(rawValue: errno)) }
    }

    /// A new file's name is durable only once its directory is synced.
    private static func syncDirectory(of path: String) throws(Failure) {
        let directory = path.lastIndex(of: "/").map { path[..<$0].isEmpty ? "/" : String(path[..<$0]) } ?? "."
        let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpenDirectory(path: directory, Errno(rawValue: errno)) }
        defer { Glibc.close(fd) }
        try sync(fd, path: directory)
    }
}
