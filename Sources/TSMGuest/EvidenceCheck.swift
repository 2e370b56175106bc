import FoundationEssentials
import TSMBytes
import TSMEvidence

/// `tsmfs verify`'s checks, given the bytes it read: the evidence of a guest against the mock
/// authority of a seed or a trust anchor, the TDX collateral, and the relying party's nonce.
public enum EvidenceCheck {
    /// Why the evidence is refused; the description names the failed check.
    public enum Failure: Error, CustomStringConvertible {
        case evidence(EvidenceError)
        case reportDataMismatch(actual: [UInt8], expected: [UInt8])

        public var description: String {
            switch self {
            case .evidence(let error): return error.description
            case .reportDataMismatch(let actual, let expected):
                return "report data does not match: the evidence has \(Hex.encode(actual)), expected \(Hex.encode(expected))"
            }
        }
    }

    /// Verifies `evidence` and returns its claims as JSON. `trustAnchorPEM` replaces the mock root
    /// of `seed`; `collateral` is TDX collateral JSON (without it, the seed's own unless a trust
    /// anchor was given); `reportData` (1...64 bytes, zero-padded) must be the report data.
    public static func run(_ evidence: [UInt8], guest: Guest, auxblob: [UInt8]?, seed: String?, trustAnchorPEM: String?,
                           collateral: [UInt8]?, reportData: [UInt8]?) throws(Failure) -> String {
        do {
            let verified: VerifiedEvidence
            var extra: [(name: String, value: VerifiedEvidence.Value)] = []
            if guest == .cca {
                let cpak = try trustAnchorPEM.map { pem throws(EvidenceError) in try CCAToken.cpak(pem: pem) }
                    ?? CCAAuthority(seed: seed ?? MockAuthority.defaultSeed).cpakPublicKey
                verified = .cca(try CCAToken.verify(evidence, cpak: cpak))
            } else {
                let verifier = try trustAnchorPEM.map { pem throws(EvidenceError) in try EvidenceVerifier(trustAnchorPEM: pem) }
                    ?? EvidenceVerifier(authority: try MockAuthority(guest: guest, seed: seed ?? MockAuthority.defaultSeed))
                verified = try verifier.verify(evidence, guest: guest, auxblob: auxblob)
                if case .tdx(let quote) = verified, let checked = try tdxCollateral(collateral, seed: seed, custom: trustAnchorPEM != nil) {
                    let verdict = try verifier.verifyTDXCollateral(checked, for: quote)
                    extra = [("tcb_status", .text(verdict.status.rawValue)), ("advisory_ids", .text(verdict.advisoryIDs.joined(separator: ",")))]
                }
            }
            if let reportData {
                let expected = reportData + [UInt8](repeating: 0, count: max(0, 64 - reportData.count))
                guard verified.reportData == expected else { throw Failure.reportDataMismatch(actual: verified.reportData, expected: expected) }
            }
            return verified.json(appending: extra)
        } catch let error as Failure {
            throw error
        } catch let error as EvidenceError {
            throw .evidence(error)
        } catch {
            throw .evidence(.invalidInput(field: "evidence", reason: "\(error)"))
        }
    }

    /// The collateral given, or the mock authority's own (issued now) unless a custom trust
    /// anchor came without collateral.
    static func tdxCollateral(_ json: [UInt8]?, seed: String?, custom: Bool) throws -> TDXCollateral? {
        if let json { return try TDXCollateral(json: json) }
        guard !custom else { return nil }
        return try MockAuthority(guest: .tdx, seed: seed ?? MockAuthority.defaultSeed).tdxCollateral(at: Date())
    }
}
