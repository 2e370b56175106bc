import Crypto
import Foundation
import TSMBytes
import TSMEvidence
import TSMGuest
import TSMGuests
import Testing

/// The reference values of issue 28's second pass: SEV-SNP's ID block keys (`--id-key`,
/// `--author-key`; `--id-key-digest`, `--author-key-digest`) and CCA's platform config and
/// software components (`--cca-platform-config`, `--cca-sw-component`; `--platform-config`,
/// `--sw-component`): the options' grammars and the policy's refusals over signed evidence.
@Suite("reference-value policy")
struct ReferenceValuePolicyTests {
    func values(_ pairs: [(String, String)]) -> GuestOptionValues {
        var values = GuestOptionValues()
        for (name, value) in pairs { values.set(name, value) }
        return values
    }

    @Test("SEV-SNP --author-key FILE: the digest of the PEM key; refusals name the option and the file")
    func snpKeyFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tsmfs-idkey-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = P384.Signing.PrivateKey()
        let path = directory.appendingPathComponent("author.pem").path
        try Data(key.pemRepresentation.utf8).write(to: URL(fileURLWithPath: path))
        let settings = try SNPGuest.settings(values([("--author-key", path)]))
        #expect(settings.authorKeyDigest == SNPIDKey.digest(key.publicKey))
        #expect(settings.idKeyDigest == nil)
        let notKey = directory.appendingPathComponent("not.pem").path
        try Data("hello".utf8).write(to: URL(fileURLWithPath: notKey))
        #expect(
            throws: GuestOptionError(
                "--id-key \(notKey): not a P-384 key in PEM (EC PRIVATE KEY, PRIVATE KEY or PUBLIC KEY)")
        ) {
            try SNPGuest.settings(values([("--id-key", notKey)]))
        }
        let huge = directory.appendingPathComponent("huge.pem").path
        try Data(count: SNPIDKey.fileLimit + 1).write(to: URL(fileURLWithPath: huge))
        #expect(throws: GuestOptionError("--author-key \(huge): more than \(SNPIDKey.fileLimit) bytes")) {
            try SNPGuest.settings(values([("--author-key", huge)]))
        }
    }

    @Test("SEV-SNP: ID_KEY_DIGEST and AUTHOR_KEY_DIGEST required by digest; AUTHOR_KEY_EN 0 refused")
    func snpDigests() throws {
        let authority = try SNPAuthority(seed: "policy")
        var report = try SNPReport(
            reportData: [UInt8](repeating: 1, count: 64), vmpl: 0, measurement: [UInt8](repeating: 2, count: 48),
            hostData: [UInt8](repeating: 0, count: 32), platform: authority.snpPlatform,
            idKeyDigest: [UInt8](repeating: 0x1d, count: 48), authorKeyDigest: [UInt8](repeating: 0xa7, count: 48))
        let request = { (report: SNPReport, pairs: [(String, String)]) throws in
            let evidence = try authority.sign(report)
            return VerifyRequest(
                evidence: evidence.report, auxblob: evidence.auxblob, seed: "policy",
                policy: VerifyPolicy(values: values(pairs)))
        }
        let id = Hex.encode([UInt8](repeating: 0x1d, count: 48))
        let author = Hex.encode([UInt8](repeating: 0xa7, count: 48))
        #expect(
            throws: EvidenceError.failed(
                .policy,
                reason: "author_key_en is 0: --author-key-digest requires an author key (SIGNER_INFO bit 0 set)")
        ) {
            try SNPGuest.verify(request(report, [("--author-key-digest", author)]))
        }
        report.signerInfo = 1
        #expect(
            try SNPGuest.verify(request(report, [("--author-key-digest", author), ("--id-key-digest", id)])).guest
                == "sev-snp")
        let other = Hex.encode([UInt8](repeating: 0xee, count: 48))
        #expect(
            throws: EvidenceError.failed(
                .policy, reason: "author_key_digest is \(author): --author-key-digest requires \(other)")
        ) {
            try SNPGuest.verify(request(report, [("--author-key-digest", other)]))
        }
        #expect(
            throws: EvidenceError.failed(.policy, reason: "id_key_digest is \(id): --id-key-digest requires \(other)")
        ) {
            try SNPGuest.verify(request(report, [("--id-key-digest", other)]))
        }
        #expect(throws: GuestOptionError("--author-key-digest takes a SHA-384 digest: 48 bytes as 96 hex digits")) {
            try Guests.catalogue.checkPolicy(values([("--author-key-digest", "abcd")]), for: SNPGuest.self)
        }
    }

    @Test("CCA --cca-sw-component's grammar: replace by name, add others, the size names the algorithm")
    func ccaComponentGrammar() throws {
        let measurement = Hex.encode([UInt8](repeating: 0xab, count: 48))
        let entries = try CCASoftwareComponent.entries(
            "BL2:\(measurement):2.0,NEW:\(String(repeating: "cd", count: 32))", option: "--x"
        ).get()
        let defaults = CCAAuthority(seed: "policy").platformTemplate.softwareComponents
        let applied = CCASoftwareComponent.applying(entries, to: defaults)
        #expect(applied.map(\.type) == ["BL1", "BL2", "BL31", "RMM", "NEW"])
        #expect(applied[1].measurement == [UInt8](repeating: 0xab, count: 48))
        #expect(applied[1].hashAlgorithm == "sha-384")
        #expect(applied[1].version == "2.0")
        #expect(applied[1].signerID == defaults[1].signerID)
        #expect(applied[4].version == "1.0.0")
        #expect(applied[4].hashAlgorithm == "sha-256")
        for bad in [
            "BL2", "BL2:abcd", ":\(measurement)", "A:\(measurement):1:zz", "A:\(measurement):1:\(measurement):x",
        ] {
            #expect(throws: PolicyFieldError.self) { try CCASoftwareComponent.entries(bad, option: "--x").get() }
        }
        let many = Array(repeating: "A:\(measurement)", count: CCASoftwareComponent.maxCount + 1).joined(separator: ",")
        #expect(throws: PolicyFieldError("--x: 33 components, more than 32")) {
            try CCASoftwareComponent.entries(many, option: "--x").get()
        }
        #expect(throws: GuestOptionError("--cca-platform-config takes 1 to 256 bytes as hex")) {
            try CCAGuest.settings(values([("--cca-platform-config", "")]))
        }
    }

    @Test("CCA: the platform config and components land in the signed token; reference values refuse one by one")
    func ccaPolicy() throws {
        var authority = CCAAuthority(seed: "policy")
        let settings = try CCAGuest.settings(
            values([
                ("--cca-platform-config", "c0ffee"),
                ("--cca-sw-component", "RMM:" + String(repeating: "11", count: 32)),
            ]))
        authority.platformTemplate.config = try #require(settings.platformConfig)
        authority.platformTemplate.softwareComponents = CCASoftwareComponent.applying(
            settings.components, to: authority.platformTemplate.softwareComponents)
        let realm = CCARealmClaims(
            challenge: [UInt8](repeating: 3, count: 64), personalizationValue: [UInt8](repeating: 0, count: 64),
            hashAlgorithm: "sha-256", publicKey: [], publicKeyHashAlgorithm: "sha-256",
            rim: [UInt8](repeating: 4, count: 32), rems: Array(repeating: [UInt8](repeating: 0, count: 32), count: 4))
        let token = try authority.token(realm)
        let parsed = try CCAToken.verify(token, cpak: try authority.cpakPublicKey)
        #expect(parsed.platformClaims.config == [0xc0, 0xff, 0xee])
        #expect(parsed.platformClaims.softwareComponents[3].measurement == [UInt8](repeating: 0x11, count: 32))
        let request = { (pairs: [(String, String)]) in
            VerifyRequest(evidence: token, seed: "policy", policy: VerifyPolicy(values: values(pairs)))
        }
        let rmm = "RMM:" + String(repeating: "11", count: 32)
        #expect(
            try CCAGuest.verify(request([("--platform-config", "c0ffee"), ("--sw-component", rmm)])).guest == "cca")
        #expect(
            throws: EvidenceError.failed(
                .policy, reason: "platform_config is c0ffee: --platform-config requires c0ffef")
        ) {
            try CCAGuest.verify(request([("--platform-config", "c0ffef")]))
        }
        let twos = String(repeating: "22", count: 32)
        #expect(
            throws: EvidenceError.failed(
                .policy,
                reason:
                    "sw_component RMM measurement is \(String(repeating: "11", count: 32)): "
                    + "--sw-component requires \(twos)"
            )
        ) {
            try CCAGuest.verify(request([("--sw-component", "RMM:\(twos)")]))
        }
        #expect(
            throws: EvidenceError.failed(
                .policy, reason: "sw_component TFA is absent: --sw-component requires it with measurement \(twos)")
        ) {
            try CCAGuest.verify(request([("--sw-component", "\(rmm),TFA:\(twos)")]))
        }
        #expect(try CCAGuest.verify(VerifyRequest(evidence: token, seed: "policy", policy: .none)).guest == "cca")
    }

    @Test("tsmfs certs --signing-key vlek: ark.pem, asvk.pem, vlek.pem (snpguest's names)")
    func vlekCertificates() throws {
        let files = try SNPGuest.certificates(seed: "policy", options: values([("--signing-key", "vlek")]))
        #expect(files.map(\.name) == ["ark.pem", "asvk.pem", "vlek.pem"])
        let authority = try SNPAuthority(seed: "policy")
        #expect(files[1].pem == authority.asvkCertificatePEM)
        #expect(files[2].pem == authority.vlekCertificatePEM)
        #expect(
            try SNPGuest.certificates(seed: "policy", options: GuestOptionValues()).map(\.name) == [
                "ark.pem", "ask.pem", "vcek.pem",
            ])
        #expect(throws: GuestOptionError("--signing-key needs --guest sev-snp")) {
            try Guests.catalogue.check(values([("--signing-key", "vlek")]), for: TDXGuest.self)
        }
    }
}
