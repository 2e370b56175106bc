import Foundation
import Testing
@testable import TSMEvidence

/// verify_evidence.py, written from the formats with Python's `cryptography`, accepts what the
/// mock authority signs and refuses a corrupted copy.
@Suite(
    .enabled(if: PythonVerifier.available, "needs python3 with the cryptography package (Debian: python3-cryptography)")
)
struct IndependentVerifierTests {
    @Test func acceptsQuoteAndRefusesCorruptedCopy() throws {
        let authority = try Authorities.tdx.get()
        let quote = try authority.quote(try patternedBody())
        let directory = try PythonVerifier.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let root = try PythonVerifier.write(Array(authority.rootCertificatePEM.utf8), "root.pem", in: directory)
        let good = try PythonVerifier.write(quote, "quote.bin", in: directory)
        #expect(try PythonVerifier.run(["tdx", good, root]) == 0)
        for offset in [100, 640, 800, 1225] {
            var corrupted = quote
            corrupted[offset] ^= 0x01
            let bad = try PythonVerifier.write(corrupted, "corrupted-\(offset).bin", in: directory)
            #expect(try PythonVerifier.run(["tdx", bad, root]) != 0, "offset \(offset)")
        }
    }

    @Test func acceptsReportAndRefusesCorruptedCopy() throws {
        let authority = try Authorities.snp.get()
        let evidence = try authority.sign(try patternedReport(platform: authority.snpPlatform))
        let directory = try PythonVerifier.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ark = try PythonVerifier.write(Array(authority.rootCertificatePEM.utf8), "ark.pem", in: directory)
        let report = try PythonVerifier.write(evidence.report, "report.bin", in: directory)
        let auxblob = try PythonVerifier.write(evidence.auxblob, "auxblob.bin", in: directory)
        #expect(try PythonVerifier.run(["sev-snp", report, auxblob, ark]) == 0)
        for offset in [0x00, 0x90, 0x180, 0x188, 0x1A0, 0x1F0, 0x29F, 0x2A0] {
            var corrupted = evidence.report
            corrupted[offset] ^= 0x01
            let bad = try PythonVerifier.write(corrupted, "corrupted-\(offset).bin", in: directory)
            #expect(try PythonVerifier.run(["sev-snp", bad, auxblob, ark]) != 0, "offset \(offset)")
        }
        // A report whose REPORTED_TCB is not the VCEK's, properly signed: the binding fails.
        var stale = try patternedReport(platform: authority.snpPlatform)
        stale.reportedTCB = SNPTCB(bootloader: 4, tee: 0, snp: 21, microcode: 213)
        let staleFile = try PythonVerifier.write(try authority.sign(stale).report, "stale.bin", in: directory)
        #expect(try PythonVerifier.run(["sev-snp", staleFile, auxblob, ark]) != 0)
        let other = try SNPAuthority(seed: "other")
        let otherARK = try PythonVerifier.write(Array(other.rootCertificatePEM.utf8), "other.pem", in: directory)
        #expect(try PythonVerifier.run(["sev-snp", report, auxblob, otherARK]) != 0)
    }
}

/// omne-attest 0.1.0 (PyPI, Apache-2.0; Scripts/test installs it pinned), a third-party verifier
/// of AMD's chain, accepts the mock's report with the mock ARK's SHA-256 as its pin, and refuses
/// a corrupted report, a corrupted VCEK and another seed's ARK.
@Suite(.enabled(if: PythonVerifier.hasOmneAttest, "needs omne-attest==0.1.0 from PyPI (Scripts/test installs it)"))
struct OmneAttestTests {
    @Test func acceptsReportWithPinnedARK() throws {
        let authority = try Authorities.snp.get()
        let evidence = try authority.sign(try patternedReport(platform: authority.snpPlatform))
        let directory = try PythonVerifier.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ark = try PythonVerifier.write(Array(authority.rootCertificatePEM.utf8), "ark.pem", in: directory)
        let report = try PythonVerifier.write(evidence.report, "report.bin", in: directory)
        let auxblob = try PythonVerifier.write(evidence.auxblob, "auxblob.bin", in: directory)
        #expect(try PythonVerifier.runOmne([report, auxblob, ark]) == 0)

        var corrupted = evidence.report
        corrupted[0x1A0] ^= 0x01
        let bad = try PythonVerifier.write(corrupted, "corrupted.bin", in: directory)
        #expect(try PythonVerifier.runOmne([bad, auxblob, ark]) != 0)
        // A byte of the VCEK's TBSCertificate (the table's first certificate starts at 96).
        var badTable = evidence.auxblob
        badTable[96 + 200] ^= 0x01
        let badAux = try PythonVerifier.write(badTable, "corrupted-aux.bin", in: directory)
        #expect(try PythonVerifier.runOmne([report, badAux, ark]) != 0)
        let other = try SNPAuthority(seed: "other")
        let otherARK = try PythonVerifier.write(Array(other.rootCertificatePEM.utf8), "other.pem", in: directory)
        #expect(try PythonVerifier.runOmne([report, auxblob, otherARK]) != 0)
    }
}

/// omne-attest 0.1.0 over a VLEK-signed report: its report-signature and chain steps accept the
/// VLEK with the ASVK chain the mock KDS serves at /vlek/v1/Milan/cert_chain; its whole verify()
/// cannot take a VLEK (it requires the hwID a VLEK lacks), which the script requires as well.
@Suite(.enabled(if: PythonVerifier.hasOmneAttest, "needs omne-attest==0.1.0 from PyPI (Scripts/test installs it)"))
struct OmneAttestVLEKTests {
    @Test func signatureAndASVKChainVerify() throws {
        let authority = try Authorities.snp.get()
        let evidence = try authority.sign(try patternedReport(platform: authority.snpPlatform), key: .vlek)
        let directory = try PythonVerifier.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ark = try PythonVerifier.write(Array(authority.rootCertificatePEM.utf8), "ark.pem", in: directory)
        let chain = try PythonVerifier.write(
            MockKDS(authority: authority).get("/vlek/v1/Milan/cert_chain").body, "vlek-chain.pem", in: directory)
        let report = try PythonVerifier.write(evidence.report, "report.bin", in: directory)
        let auxblob = try PythonVerifier.write(evidence.auxblob, "auxblob.bin", in: directory)
        #expect(try PythonVerifier.runOmneVLEK([report, auxblob, chain, ark]) == 0)

        // The VCEK chain's cert_chain (ASK, not ASVK) does not issue the VLEK.
        let askChain = try PythonVerifier.write(
            MockKDS(authority: authority).get("/vcek/v1/Milan/cert_chain").body, "vcek-chain.pem", in: directory)
        #expect(try PythonVerifier.runOmneVLEK([report, auxblob, askChain, ark]) != 0)
        var corrupted = evidence.report
        corrupted[0x50] ^= 0x01
        let bad = try PythonVerifier.write(corrupted, "corrupted.bin", in: directory)
        #expect(try PythonVerifier.runOmneVLEK([bad, auxblob, chain, ark]) != 0)
    }
}

enum PythonVerifier {
    static let crlScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "check_amd_crl.py"
    ).path

    static func runOmneVLEK(_ arguments: [String]) throws -> Int32 {
        try execute([omneScript.replacingOccurrences(of: "check_with_omne", with: "check_vlek_with_omne")] + arguments)
    }

    static let omneScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "check_with_omne_attest.py"
    ).path

    static var hasOmneAttest: Bool {
        (try? execute(["-c", "import importlib.metadata as m, sys; sys.exit(m.version('omne-attest') != '0.1.0')"]))
            == 0
    }

    static func runOmne(_ arguments: [String]) throws -> Int32 {
        try execute([omneScript] + arguments)
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "verify_evidence.py"
    ).path

    static var available: Bool {
        (try? execute(["-c", "import cryptography.x509"])) == 0
    }

    static func run(_ arguments: [String]) throws -> Int32 {
        try execute([script] + arguments)
    }

    static func execute(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tsmfs-evidence-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func write(_ bytes: [UInt8], _ name: String, in directory: URL) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }
}
