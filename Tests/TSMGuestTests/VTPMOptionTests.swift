import TSMGuest
import TSMGuests
import Testing

@Suite("--vtpm: which guests take it, and its values")
struct VTPMOptionTests {
    let catalogue = Guests.catalogue

    func values(_ value: String) -> GuestOptionValues {
        var values = GuestOptionValues()
        values.set("--vtpm", value)
        return values
    }

    @Test("SEV-SNP and TDX take it; CCA does not, and the message names the guests that do")
    func owners() throws {
        #expect(catalogue.owners(of: "--vtpm").sorted() == ["sev-snp", "tdx"])
        let cca = try #require(catalogue.named("cca"))
        #expect(throws: GuestOptionError.self) { try catalogue.check(values("plain"), for: cca) }
        for name in ["sev-snp", "tdx"] {
            let guest = try #require(catalogue.named(name))
            try catalogue.check(values("plain"), for: guest)
        }
    }

    @Test("an unknown personality is refused, naming the known ones")
    func unknown() throws {
        #expect(throws: GuestOptionError("--vtpm azure: not one of plain")) {
            try VTPMPersonality.parse(values("azure"))
        }
        #expect(try VTPMPersonality.parse(values("plain")) == .plain)
        #expect(try VTPMPersonality.parse(GuestOptionValues()) == nil)
        let tdx = try #require(catalogue.named("tdx"))
        #expect(throws: GuestOptionError.self) { try catalogue.check(values("azure"), for: tdx) }
    }
}
