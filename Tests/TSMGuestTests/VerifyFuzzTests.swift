import FoundationEssentials
import TSMEvidence
import TSMGuest
import TSMGuests
import TestSupport
import Testing

/// `tsmfs verify`'s inputs of every guest, fuzzed: mutations of valid evidence from the mock
/// authorities (and of the SEV-SNP auxblob and the TDX collateral), seeded and reproducible. A
/// mutation is refused with a message or, when it changed nothing signed, vouches for exactly
/// what the original did; nothing traps. The longer coverage-guided run is `Scripts/fuzz`
/// (Fuzz/TSMFuzz, `FuzzTarget.verify`), whose report holds time and memory per input.
@Suite struct VerifyFuzzTests {
    /// The fuzz budget: `TSMFS_FUZZ_SCALE=N` multiplies it for a longer run.
    static let scale =
        ProcessInfo.processInfo.environment["TSMFS_FUZZ_SCALE"].flatMap { Int($0) }.map { max($0, 1) } ?? 1

    /// One guest's valid request, and which of its inputs the fuzzer mutates.
    struct Sample {
        let guest: any GuestDefinition.Type
        let request: VerifyRequest
        let inputs: [WritableKeyPath<VerifyRequest, [UInt8]?>]
    }

    static func samples() throws -> [Sample] {
        let tdx = try TDXAuthority()
        let zero = { (count: Int) in [UInt8](repeating: 0, count: count) }
        let quote = try tdx.quote(
            try TDXQuoteBody(
                mrTD: zero(48), mrConfigID: zero(48), mrOwner: zero(48), mrOwnerConfig: zero(48),
                rtmrs: Array(repeating: zero(48), count: 4), reportData: [UInt8](repeating: 0x24, count: 64)))
        let snp = try SNPAuthority()
        let evidence = try snp.sign(
            try SNPReport(
                reportData: [UInt8](repeating: 0x24, count: 64), vmpl: 0, measurement: zero(48), hostData: zero(32),
                platform: snp.snpPlatform))
        let realm = CCARealmClaims(
            challenge: [UInt8](repeating: 0x24, count: 64), personalizationValue: zero(64), hashAlgorithm: "sha-256",
            publicKey: [], publicKeyHashAlgorithm: "sha-256", rim: zero(32), rems: Array(repeating: zero(32), count: 4))
        let collateral = Array(try tdx.tdxCollateral(at: Date()).json.utf8)
        return [
            Sample(
                guest: TDXGuest.self, request: VerifyRequest(evidence: quote, collateral: collateral),
                inputs: [\.evidenceInput, \.collateral]),
            Sample(
                guest: SNPGuest.self, request: VerifyRequest(evidence: evidence.report, auxblob: evidence.auxblob),
                inputs: [\.evidenceInput, \.auxblob]),
            Sample(
                guest: CCAGuest.self, request: VerifyRequest(evidence: try CCAAuthority().token(realm)),
                inputs: [\.evidenceInput]),
        ]
    }

    /// One to three of: a bit flipped, a byte set, a u32 set to an extreme, a cut, random bytes
    /// appended, a slice repeated.
    static func mutate(_ bytes: [UInt8], _ random: inout SeededGenerator) -> [UInt8] {
        var bytes = bytes
        for _ in 0...random.below(3) where !bytes.isEmpty {
            let at = random.below(bytes.count)
            switch random.below(6) {
            case 0: bytes[at] ^= 1 << UInt8(random.below(8))
            case 1: bytes[at] = UInt8(truncatingIfNeeded: random.next())
            case 2:
                let value = random.pick([UInt32.max, 0, 0x7FFF_FFFF, 0x8000_0000, UInt32(bytes.count), 1 << 20])
                for index in 0..<4 where at + index < bytes.count {
                    bytes[at + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index)))
                }
            case 3: bytes.removeSubrange(at...)
            case 4: bytes += random.bytes(random.below(64))
            default:
                let end = min(bytes.count, at + random.below(256))
                bytes.insert(contentsOf: bytes[at..<end], at: at)
            }
        }
        return bytes
    }

    @Test("mutated evidence of every guest is refused with a message, or vouches for what the original did")
    func mutations() throws {
        var random = SeededGenerator(seed: 24)
        for sample in try Self.samples() {
            let original = try EvidenceCheck.run(sample.request, guest: sample.guest, reportData: nil)
            var refused = 0
            var sameClaims = 0
            for iteration in 0..<(100 * Self.scale) {
                var request = sample.request
                let input = random.pick(sample.inputs)
                request[keyPath: input] = Self.mutate(request[keyPath: input] ?? [], &random)
                do {
                    let json = try EvidenceCheck.run(request, guest: sample.guest, reportData: nil)
                    #expect(json == original, "\(sample.guest.name) mutation \(iteration) vouches for other claims")
                    sameClaims += 1
                } catch {
                    #expect(!error.description.isEmpty)
                    refused += 1
                }
            }
            print("verify fuzz: \(sample.guest.name): \(refused) refused, \(sameClaims) accepted with the same claims")
            #expect(refused > 0)
        }
    }

    @Test("every file of `tsmfs verify` is refused past its limit, naming the file and the limit")
    func fileLimits() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let big = directory + "/big"
        #expect(FileManager.default.createFile(atPath: big, contents: Data(count: 15 << 20)))
        let small = directory + "/small"
        #expect(FileManager.default.createFile(atPath: small, contents: Data(count: 10)))
        let cases: [(any GuestDefinition.Type, VerifyFiles, String, Int)] = [
            (TDXGuest.self, VerifyFiles(evidence: big), "evidence", TDXQuote.maxSize),
            (SNPGuest.self, VerifyFiles(evidence: small, auxblob: big), "auxblob", SNPCertificateTable.maxSize),
            (CCAGuest.self, VerifyFiles(evidence: big), "evidence", CCAToken.maxSize),
            (
                TDXGuest.self, VerifyFiles(evidence: small, collateral: big), "collateral",
                VerificationInputs.collateralLimit
            ),
            (SNPGuest.self, VerifyFiles(evidence: small, auxblob: small, trustAnchor: big), "trust anchor", 16_384),
        ]
        for (guest, files, what, limit) in cases {
            #expect(throws: EvidenceCheck.Failure.self) {
                try EvidenceCheck.run(files: files, guest: guest, seed: "tsmfs", reportData: nil)
            }
            do {
                _ = try EvidenceCheck.run(files: files, guest: guest, seed: "tsmfs", reportData: nil)
            } catch {
                #expect(error.description == "\(big): the \(what) is larger than its limit of \(limit) bytes")
            }
        }
    }
}

extension VerifyRequest {
    /// The evidence as an optional, so every input is one key path type.
    var evidenceInput: [UInt8]? {
        get { evidence }
        set { evidence = newValue ?? [] }
    }
}
