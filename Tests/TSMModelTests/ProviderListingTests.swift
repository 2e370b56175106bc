import Testing
import TSMModel

@Suite("tsmfs providers: the listing")
struct ProviderListingTests {
    @Test("one line per register: shape, hash, size, mode and flags in columns")
    func columns() {
        let provider = ProviderDescriptor(
            name: "demo",
            registers: [
                RegisterDescriptor(name: "rtmr0", hash: .sha384, flags: .rtmr),
                RegisterDescriptor(name: "report", hash: nil, size: 1024, flags: [.readable, .writable, .file]),
            ])
        #expect(
            ProviderListing.text([provider]) == """
                demo/
                  rtmr0/             sha384     48 bytes  0444  RXL
                  report             -        1024 bytes  0664  RWF

                """)
        #expect(ProviderListing.text([]) == "")
    }
}
