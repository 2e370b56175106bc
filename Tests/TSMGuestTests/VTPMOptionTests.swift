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

    @Test("an unknown kind is refused, naming the guest's; azure and svsm are SEV-SNP's, gcp both guests'")
    func unknown() throws {
        #expect(throws: GuestOptionError("--vtpm aws: not one of plain, azure, gcp, svsm (--guest sev-snp)")) {
            try VTPMKind.parse(values("aws"), guest: SNPGuest.self)
        }
        #expect(throws: GuestOptionError("--vtpm azure: not one of plain, gcp (--guest tdx)")) {
            try VTPMKind.parse(values("azure"), guest: TDXGuest.self)
        }
        for kind in VTPMKind.allCases {
            #expect(try VTPMKind.parse(values(kind.rawValue), guest: SNPGuest.self) == kind)
        }
        #expect(try VTPMKind.parse(values("gcp"), guest: TDXGuest.self) == .gcp)
        #expect(try VTPMKind.parse(GuestOptionValues(), guest: TDXGuest.self) == nil)
        let tdx = try #require(catalogue.named("tdx"))
        for kind in ["azure", "svsm"] {
            #expect(throws: GuestOptionError.self) { try catalogue.check(values(kind), for: tdx) }
        }
        try catalogue.check(values("gcp"), for: tdx)
    }

    @Test("--vtpm svsm implies --svsm, and needs 6.16")
    func svsm() throws {
        let settings = try SNPGuest.settings(values("svsm"))
        #expect(settings.svsm && settings.vtpm == .svsm)
        #expect(SNPGuest.kernelRefusal(values("svsm"), release: KernelRelease(6, 13)) != nil)
        #expect(SNPGuest.kernelRefusal(values("svsm"), release: KernelRelease(6, 16)) == nil)
        #expect(SNPGuest.kernelRefusal(values("azure"), release: KernelRelease(6, 13)) == nil)
    }
}
