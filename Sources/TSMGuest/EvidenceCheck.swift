import TSMBytes
import TSMEvidence

/// `tsmfs verify`'s checks, given the bytes it read: the guest's own verifier against the mock
/// authority of a seed or a trust anchor, then the relying party's nonce.
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

    /// Verifies `request` as `guest`'s evidence and returns its claims as JSON; `reportData`
    /// (1...64 bytes, zero-padded) must be the report data.
    public static func run(_ request: VerifyRequest, guest: any GuestDefinition.Type,
                           reportData: [UInt8]?) throws(Failure) -> String {
        let verified: VerifiedEvidence
        do {
            verified = try guest.verify(request)
        } catch {
            throw .evidence(error)
        }
        if let reportData {
            let expected = reportData + [UInt8](repeating: 0, count: max(0, 64 - reportData.count))
            guard verified.reportData == expected else {
                throw .reportDataMismatch(actual: verified.reportData, expected: expected)
            }
        }
        return verified.json
    }
}
