import Glibc
import Testing
import TSMBytes

@Suite("Bounded file reads")
struct FileBytesTests {
    /// A fresh file named after the test holding `bytes`, removed by the caller.
    static func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = "/tmp/tsmbytes-\(getpid())-\(name)"
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        try #require(written == bytes.count)
        return path
    }

    @Test("a file at the limit reads whole; one byte over throws tooLarge")
    func limit() throws {
        let bytes = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let path = try Self.temporaryFile("limit", bytes)
        defer { unlink(path) }
        #expect(try FileBytes.read(path: path, limit: bytes.count) == bytes)
        #expect(try FileBytes.read(path: path) == bytes)
        #expect(throws: FileReadError.tooLarge(path: path, limit: bytes.count - 1)) {
            try FileBytes.read(path: path, limit: bytes.count - 1)
        }
        #expect(throws: FileReadError.tooLarge(path: path, limit: 0)) { try FileBytes.read(path: path, limit: 0) }
    }

    @Test("an empty file reads as no bytes, even with a zero limit")
    func empty() throws {
        let path = try Self.temporaryFile("empty", [])
        defer { unlink(path) }
        #expect(try FileBytes.read(path: path, limit: 0) == [])
    }

    @Test("/dev/zero fails at the limit instead of eating memory")
    func endless() {
        #expect(throws: FileReadError.tooLarge(path: "/dev/zero", limit: 1 << 20)) {
            try FileBytes.read(path: "/dev/zero", limit: 1 << 20)
        }
        #expect(FileReadError.tooLarge(path: "/dev/zero", limit: 5).errno == EFBIG)
        #expect(FileReadError.tooLarge(path: "/dev/zero", limit: 5).description == "/dev/zero: more than 5 bytes")
    }

    @Test("a missing file is cannotOpen with ENOENT, described with strerror")
    func missing() {
        let path = "/nonexistent/tsmbytes-missing"
        #expect(throws: FileReadError.cannotOpen(path: path, errno: ENOENT)) { try FileBytes.read(path: path) }
        let error = FileReadError.cannotOpen(path: path, errno: ENOENT)
        #expect(error.errno == ENOENT)
        #expect(error.description == "\(path): cannot open: No such file or directory")
    }

    @Test("a directory opens but cannot be read: cannotRead with EISDIR")
    func directory() {
        #expect(throws: FileReadError.cannotRead(path: "/tmp", errno: EISDIR)) { try FileBytes.read(path: "/tmp") }
    }

    @Test("read(descriptor:) reads what remains and leaves the descriptor open")
    func descriptor() throws {
        let path = try Self.temporaryFile("descriptor", [1, 2, 3, 4])
        defer { unlink(path) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(lseek(fd, 1, SEEK_SET) == 1)
        #expect(try FileBytes.read(descriptor: fd, path: path, limit: 3) == [2, 3, 4])
        #expect(lseek(fd, 0, SEEK_SET) == 0)
        #expect(throws: FileReadError.tooLarge(path: path, limit: 3)) {
            try FileBytes.read(descriptor: fd, path: path, limit: 3)
        }
    }
}
