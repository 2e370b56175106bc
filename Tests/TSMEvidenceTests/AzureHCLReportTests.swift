import Crypto
import FoundationEssentials
import TSMBytes
@testable import TSMEvidence
import Testing

/// The Azure HCL report against a real one (az-cvm-vtpm's SEV-SNP fixture, 2023: header version 1)
/// and ours: the layout reads, REPORT_DATA binds the claims, and each refusal names its field.
@Suite struct AzureHCLReportTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/az-cvm-vtpm-hcl-report-snp.bin")

    @Test func readsARealReportAndItsClaimsBindTheHardwareReport() throws {
        let bytes = [UInt8](try Data(contentsOf: Self.fixture))
        let report = try AzureHCLReport(parsing: bytes)
        #expect(report.version == 1)
        #expect(report.reportType == .snp)
        #expect(report.hashType == .sha256)
        #expect(report.claims.count == 583)
        let snp = try SNPReport.parse(report.hardwareReport)
        #expect(snp.reportData == report.expectedReportData)
        let claims = try AzureRuntimeClaims(parsing: report.claims)
        let ak = try #require(claims.key(AzureRuntimeClaims.attestationKeyID))
        #expect(ak.kty == "RSA")
        #expect(try #require(ak.modulus).count == 256)
        #expect(ak.exponent == [1, 0, 1])
    }

    @Test func oursRoundTripsPaddedToTheIndexSize() throws {
        let claims = AzureRuntimeClaims(
            keys: [
                .init(kid: "HCLAkPub", operation: "sign", modulus: pattern(0xA5, 256), exponent: [1, 0, 1]),
                .init(kid: "HCLEkPub", operation: "encrypt", modulus: pattern(0x5A, 256), exponent: [1, 0, 1]),
            ],
            vmConfiguration: .init(vmUniqueID: "7d3c1a52-0000-4000-8000-000000000001"), userData: pattern(0xAB, 64))
        let text = claims.encoded()
        #expect(try AzureRuntimeClaims(parsing: text) == claims)
        #expect(JSONSyntax.firstProblem(in: text) == nil)
        let report = AzureHCLReport(reportType: .snp, hardwareReport: pattern(0x33, 1184), claims: text)
        let bytes = try report.encoded()
        #expect(bytes.count == AzureHCLReport.nvSize)
        #expect(Array(bytes[0..<4]) == Array("HCLA".utf8))
        #expect(try AzureHCLReport(parsing: bytes) == report)
        #expect(report.expectedReportData == Array(SHA256.hash(data: text)) + pattern(0, 32))
        #expect(claims.userData == String(repeating: "AB", count: 64))
    }

    @Test func refusesWhatNoParavisorWrites() throws {
        let good = try AzureHCLReport(reportType: .snp, hardwareReport: pattern(0, 1184), claims: Array("{}".utf8))
            .encoded()
        func refusal(_ edit: (inout [UInt8]) -> Void) -> String {
            var bytes = good
            edit(&bytes)
            do {
                _ = try AzureHCLReport(parsing: bytes)
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(refusal { $0[0] = 0 }.contains("not HCLA"))
        #expect(refusal { $0[4] = 3 }.contains("header version 3"))
        #expect(refusal { $0[1216 + 8] = 3 }.contains("report type 3"))
        #expect(refusal { $0[1216 + 12] = 9 }.contains("hash type 9"))
        #expect(
            refusal {
                $0[1216 + 16] = 0xFF; $0[1216 + 17] = 0xFF
            }.contains("runtime claims"))
        #expect(refusal { $0[1216] = 0 }.contains("runtime data size"))
        #expect(refusal { $0.removeLast($0.count - 1000) }.contains("truncated"))
        #expect(throws: EvidenceError.self) { try AzureRuntimeClaims(parsing: Array(#"{"keys":[],"keys":[]}"#.utf8)) }
    }

    @Test func refusesClaimsThatDoNotFitTheIndex() {
        let report = AzureHCLReport(
            reportType: .snp, hardwareReport: pattern(0, 1184),
            claims: pattern(0x20, AzureHCLReport.maximumClaimsSize + 1))
        #expect(throws: EvidenceError.self) { try report.encoded() }
    }

    @Test func base64URLHasNoPaddingAndRefusesTheStandardAlphabet() {
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
        #expect(Base64URL.decode("+/8=") == nil)
    }
}
