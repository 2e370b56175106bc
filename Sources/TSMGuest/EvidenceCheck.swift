import TSMBytes
import TSMEvidence

/// `tsmfs verify`'s checks, given the bytes it read: the guest's own verifier against the mock
/// authority of a seed or a trust anchor, then the relying party's nonce.
public enum EvidenceCheck {
    /// Why the evidence is refused; the description names the failed check.
    public enum Failure: Error, CustomStringConvertible {
        case evidence(EvidenceError)
        case reportDataMismatch(actual: [UInt8], expected: [UInt8])
        /// An input file could not be read.
        case unreadable(ProviderSelection.Failure)

        public var description: String {
            switch self {
            case .evidence(let error): return error.description
            case .unreadable(let error): return error.description
            case .reportDataMismatch(let actual, let expected):
                return
                    """
                    report data does not match: the evidence has \(Hex.encode(actual)), expected \
                    \(Hex.encode(expected))
                    """
            }
        }
    }

    /// Verifies `request` as `guest`'s evidence and returns its claims as JSON; `reportData`
    /// (1...64 bytes, zero-padded) must be the report data.
    public static func run(
        _ request: VerifyRequest, guest: any GuestDefinition.Type,
        reportData: [UInt8]?
    ) throws(Failure) -> String {
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

/// The files `tsmfs verify` names: the evidence (outblob) and, where its guest takes them, the
/// auxblob, a trust anchor (PEM) and collateral.
public struct VerifyFiles: Sendable {
    public var evidence: String
    public var auxblob: String?
    public var trustAnchor: String?
    public var collateral: String?

    public init(evidence: String, auxblob: String? = nil, trustAnchor: String? = nil, collateral: String? = nil) {
        self.evidence = evidence
        self.auxblob = auxblob
        self.trustAnchor = trustAnchor
        self.collateral = collateral
    }
}

extension EvidenceCheck {
    /// Reads `files` (each at most ``FileBytes/defaultLimit`` bytes) and verifies them as
    /// `guest`'s evidence against the mock authority of `seed`, or the trust anchor file when
    /// one is named; as ``run(_:guest:reportData:)`` otherwise.
    public static func run(
        files: VerifyFiles, guest: any GuestDefinition.Type, seed: String,
        reportData: [UInt8]?
    ) throws(Failure) -> String {
        let request: VerifyRequest
        do throws(ProviderSelection.Failure) {
            let read = { (path: String) throws(ProviderSelection.Failure) in try ProviderSelection.readFile(path) }
            request = VerifyRequest(
                evidence: try read(files.evidence), auxblob: try files.auxblob.map(read), seed: seed,
                trustAnchorPEM: try files.trustAnchor.map { path throws(ProviderSelection.Failure) in
                    String(decoding: try read(path), as: UTF8.self)
                },
                collateral: try files.collateral.map(read))
        } catch {
            throw .unreadable(error)
        }
        return try run(request, guest: guest, reportData: reportData)
    }
}
