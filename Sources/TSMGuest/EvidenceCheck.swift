import SystemPackage
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
        /// An input file (`what`) is larger than its limit; refused before it is parsed.
        case tooLarge(file: String, what: String, limit: Int)

        public var description: String {
            switch self {
            case .evidence(let error): return error.description
            case .unreadable(let error): return error.description
            case .tooLarge(let file, let what, let limit):
                return "\(file): the \(what) is larger than its limit of \(limit) bytes"
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
    public var crl: String?

    public init(
        evidence: String, auxblob: String? = nil, trustAnchor: String? = nil, collateral: String? = nil,
        crl: String? = nil
    ) {
        self.crl = crl
        self.evidence = evidence
        self.auxblob = auxblob
        self.trustAnchor = trustAnchor
        self.collateral = collateral
    }
}

extension EvidenceCheck {
    /// Reads `files` (each refused past its limit in ``VerificationInputs``, having read one byte
    /// more at most) and verifies them as `guest`'s evidence against the mock authority of `seed`,
    /// or the trust anchor file when one is named, under `policy`; as ``run(_:guest:reportData:)``
    /// otherwise.
    public static func run(
        files: VerifyFiles, guest: any GuestDefinition.Type, seed: String,
        reportData: [UInt8]?, policy: VerifyPolicy = .default
    ) throws(Failure) -> String {
        let inputs = guest.verification
        let request = VerifyRequest(
            evidence: try read(files.evidence, "evidence", limit: inputs.evidenceLimit),
            auxblob: try files.auxblob.map { path throws(Failure) in
                try read(path, "auxblob", limit: inputs.auxblobLimit)
            },
            seed: seed,
            trustAnchorPEM: try files.trustAnchor.map { path throws(Failure) in
                String(
                    decoding: try read(path, "trust anchor", limit: VerificationInputs.trustAnchorLimit), as: UTF8.self)
            },
            collateral: try files.collateral.map { path throws(Failure) in
                try read(path, "collateral", limit: VerificationInputs.collateralLimit)
            },
            crl: try files.crl.map { path throws(Failure) in try read(path, "CRL", limit: VerificationInputs.crlLimit)
            },
            policy: policy)
        return try run(request, guest: guest, reportData: reportData)
    }

    static func read(_ path: String, _ what: String, limit: Int) throws(Failure) -> [UInt8] {
        do {
            return try FileBytes.read(path: path, limit: limit)
        } catch .tooLarge {
            throw .tooLarge(file: path, what: what, limit: limit)
        } catch {
            throw .unreadable(.unreadable(file: path, Errno(rawValue: error.errno)))
        }
    }
}
