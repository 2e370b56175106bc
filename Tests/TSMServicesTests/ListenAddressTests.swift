@testable import TSMServices
import Testing

/// The listen address every tsmfs service parses, and the header encoding PCS clients decode.
@Suite struct ListenAddressTests {
    @Test(arguments: [
        ("127.0.0.1:8081", "127.0.0.1", 8081), ("[::1]:0", "::1", 0), ("localhost:65535", "localhost", 65_535),
    ])
    func parses(text: String, host: String, port: Int) throws {
        let address = try ListenAddress(parsing: text)
        #expect(address == ListenAddress(host: host, port: port))
        #expect(try ListenAddress(parsing: address.description) == address)
    }

    @Test(arguments: [
        "8081", ":8081", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "[::1:80", "a b:80",
        String(repeating: "a", count: 300) + ":1",
    ])
    func refuses(text: String) {
        #expect(throws: ListenAddress.ParseError.self) { try ListenAddress(parsing: text) }
    }

    @Test func issuerChainHeadersArePercentEncoded() {
        #expect(
            PCCSService.percentEncoded("-----BEGIN CERTIFICATE-----\nAB+/=\n")
                == "-----BEGIN%20CERTIFICATE-----%0AAB%2B%2F%3D%0A")
    }
}
