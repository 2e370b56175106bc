import Foundation
import Testing
@testable import TSMEvidence

/// verify_evidence.py, written from the formats with Python's `cryptography`, accepts what the
/// mock authority signs and refuses a corrupted copy.
@Suite(.enabled(if: PythonVerifier.available, "needs python3 with the cryptography package (Debian: python3-cryptography)"))
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
        var corrupted = evidence.report
        corrupted[0x90] ^= 0x01
        let bad = try PythonVerifier.write(corrupted, "corrupted.bin", in: directory)
        #expect(try PythonVerifier.run(["sev-snp", bad, auxblob, ark]) != 0)
        let other = try MockAuthority(guest: .sevSNP, seed: "other")
        let otherARK = try PythonVerifier.write(Array(other.rootCertificatePEM.utf8), "other.pem", in: directory)
        #expect(try PythonVerifier.run(["sev-snp", report, auxblob, otherARK]) != 0)
    }
}

enum PythonVerifier {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("verify_evidence.py").path

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
