import Glibc
import Testing
import TSMBytes

@Suite("Unix socket addresses")
struct UnixSocketAddressTests {
    /// The family and the `sun_path` bytes the address hands to the system call.
    static func contents(_ address: UnixSocketAddress) -> (family: Int32, path: [UInt8], length: Int) {
        address.withSockaddr { pointer, length in
            pointer.withMemoryRebound(to: sockaddr_un.self, capacity: 1) { un in
                var copy = un.pointee
                let path = withUnsafeBytes(of: &copy.sun_path) { Array($0) }
                return (Int32(un.pointee.sun_family), path, Int(length))
            }
        }
    }

    @Test("a pathname: NUL-terminated, length of the whole structure")
    func pathname() throws {
        let address = try UnixSocketAddress(path: "/run/tsmfs/ctl")
        let (family, path, length) = Self.contents(address)
        #expect(family == AF_UNIX)
        #expect(Array(path.prefix(15)) == Array("/run/tsmfs/ctl".utf8) + [0])
        #expect(length == MemoryLayout<sockaddr_un>.size)
    }

    @Test("107 bytes fit with the NUL; 108 are too long")
    func tooLong() throws {
        #expect(UnixSocketAddress.pathCapacity == 108)
        let longest = "/" + String(repeating: "a", count: 106)
        let (_, path, _) = Self.contents(try UnixSocketAddress(path: longest))
        #expect(path == Array(longest.utf8) + [0])
        let over = longest + "b"
        #expect(throws: UnixSocketAddressError.tooLong(path: over, bytes: 108, limit: 107)) {
            try UnixSocketAddress(path: over)
        }
        #expect(
            UnixSocketAddressError.tooLong(path: "/x", bytes: 200, limit: 107).description
                == "socket path too long (200 bytes, at most 107): /x")
    }

    @Test("the abstract namespace: a leading NUL, no terminator, exact length")
    func abstract() throws {
        let address = try UnixSocketAddress(notation: "@notify")
        let (_, path, length) = Self.contents(address)
        #expect(Array(path.prefix(8)) == [0] + Array("notify".utf8) + [0])
        #expect(length == MemoryLayout<sa_family_t>.size + 7)
        let full = [UInt8](repeating: 0x61, count: 107)
        #expect(Self.contents(try UnixSocketAddress(abstractName: full)).length == MemoryLayout<sa_family_t>.size + 108)
        #expect(throws: UnixSocketAddressError.self) { try UnixSocketAddress(abstractName: full + [0x61]) }
        #expect(Self.contents(try UnixSocketAddress(notation: "/run/notify")).length == MemoryLayout<sockaddr_un>.size)
    }

    @Test("the address works: bind and connect through it")
    func bindAndConnect() throws {
        let path = "/tmp/tsmbytes-\(getpid()).sock"
        unlink(path)
        defer { unlink(path) }
        let address = try UnixSocketAddress(path: path)
        let server = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(server >= 0)
        defer { close(server) }
        #expect(address.withSockaddr { bind(server, $0, $1) } == 0)
        #expect(listen(server, 1) == 0)
        let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(client >= 0)
        defer { close(client) }
        #expect(address.withSockaddr { connect(client, $0, $1) } == 0)
    }
}
