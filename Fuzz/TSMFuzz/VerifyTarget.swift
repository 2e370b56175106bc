import FoundationEssentials
import Glibc
import TSMEvidence
import TSMGuest
import TSMGuests

extension FuzzTarget {
    /// Whether only the verify target runs (`TSMFUZZ_TARGET=verify`).
    static let verifyOnly = getenv("TSMFUZZ_TARGET").map { String(cString: $0) } == "verify"

    /// The input's first byte picks one input of one guest's `tsmfs verify` (``VerifyTarget/slots``);
    /// the rest replaces it, the other inputs staying valid. The verifier either refuses with a
    /// message or vouches for exactly what the valid evidence does.
    static func verify(_ bytes: [UInt8]) {
        guard let first = bytes.first, let samples = VerifyTarget.samples else { return }
        let slot = VerifyTarget.slots[Int(first) % VerifyTarget.slots.count]
        let sample = samples[slot.guest]
        var request = sample.request
        let input = Array(bytes.dropFirst())
        switch slot.input {
        case .evidence: request.evidence = input
        case .auxblob: request.auxblob = input
        case .collateral: request.collateral = input
        }
        do {
            let json = try EvidenceCheck.run(request, guest: sample.guest, reportData: nil)
            precondition(json == sample.json, "\(sample.guest.name): accepted evidence vouches for other claims")
        } catch {
            precondition(!error.description.isEmpty, "a refusal without a message")
        }
    }
}

/// Valid `tsmfs verify` requests of every guest, from the mock authorities of the default seed.
enum VerifyTarget {
    enum Input { case evidence, auxblob, collateral }
    struct Sample {
        let guest: any GuestDefinition.Type
        let request: VerifyRequest
        let json: String
    }

    /// (guest index in ``samples``, input): what the first byte of an input selects.
    static let slots: [(guest: Int, input: Input)] = [
        (0, .evidence), (0, .collateral), (1, .evidence), (1, .auxblob), (2, .evidence),
    ]

    static let samples: [Sample]? = try? makeSamples()

    static func makeSamples() throws -> [Sample] {
        let tdx = try TDXAuthority()
        let zero = { (count: Int) in [UInt8](repeating: 0, count: count) }
        let quote = try tdx.quote(
            try TDXQuoteBody(
                mrTD: zero(48), mrConfigID: zero(48), mrOwner: zero(48), mrOwnerConfig: zero(48),
                rtmrs: Array(repeating: zero(48), count: 4), reportData: zero(64)))
        let snp = try SNPAuthority()
        let report = try snp.sign(
            try SNPReport(
                reportData: zero(64), vmpl: 0, measurement: zero(48), hostData: zero(32), platform: snp.snpPlatform))
        let realm = CCARealmClaims(
            challenge: zero(64), personalizationValue: zero(64), hashAlgorithm: "sha-256", publicKey: [],
            publicKeyHashAlgorithm: "sha-256", rim: zero(32), rems: Array(repeating: zero(32), count: 4))
        // Collateral issued at a fixed date current for 30 days would expire; issue it now, once.
        let collateral = Array(try tdx.tdxCollateral(at: Date()).json.utf8)
        let requests: [(any GuestDefinition.Type, VerifyRequest)] = [
            (TDXGuest.self, VerifyRequest(evidence: quote, collateral: collateral)),
            (SNPGuest.self, VerifyRequest(evidence: report.report, auxblob: report.auxblob)),
            (CCAGuest.self, VerifyRequest(evidence: try CCAAuthority().token(realm))),
        ]
        return try requests.map { guest, request in
            Sample(guest: guest, request: request, json: try EvidenceCheck.run(request, guest: guest, reportData: nil))
        }
    }

    /// Writes one seed per slot (its selector byte, then the valid input) into `directory`.
    static func writeSeeds(to directory: String) -> Bool {
        guard let samples else { return false }
        for (index, slot) in slots.enumerated() {
            let request = samples[slot.guest].request
            let input: [UInt8]
            switch slot.input {
            case .evidence: input = request.evidence
            case .auxblob: input = request.auxblob ?? []
            case .collateral: input = request.collateral ?? []
            }
            let path = "\(directory)/verify-\(samples[slot.guest].guest.name)-\(index)"
            guard FileManager.default.createFile(atPath: path, contents: Data([UInt8(index)] + input)) else {
                return false
            }
        }
        return true
    }
}
