import Testing
@testable import TSMEvidence

@Test func guestNamesAreTheCLISpellings() {
    #expect(Guest(rawValue: "tdx") == .tdx)
    #expect(Guest(rawValue: "sev-snp") == .sevSNP)
    #expect(Guest(rawValue: "cca") == .cca)
}
