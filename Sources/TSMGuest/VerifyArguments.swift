import TSMBytes
import TSMEvidence

/// What `tsmfs verify` was given, before any file is read: the rules between its options live
/// here, beside the guests they ask, so the command only parses and prints.
public struct VerifyArguments: Sendable {
    public var guest: any GuestDefinition.Type
    /// The evidence file, or with ``vtpm`` the bundle's directory.
    public var file: String
    public var vtpm, nonce, auxblob, seed, reportData, trustAnchor, collateral, crl: String?
    /// `--allow-debug` and `--no-policy`.
    public var allowDebug = false, noPolicy = false
    /// The guest's policy flags given (`--min-tcb`, ...), by name.
    public var policyValues = GuestOptionValues()

    public init(guest: any GuestDefinition.Type, file: String) {
        self.guest = guest
        self.file = file
    }

    /// The policy the flags give.
    public var policy: VerifyPolicy {
        VerifyPolicy(allowDebug: allowDebug, values: policyValues, enforced: !noPolicy)
    }

    /// The files to read, without `--vtpm`.
    public var files: VerifyFiles {
        VerifyFiles(evidence: file, auxblob: auxblob, trustAnchor: trustAnchor, collateral: collateral, crl: crl)
    }

    /// Refuses options that cannot go together, or that `guest` does not take, or a value they
    /// cannot have (a usage error): policy flags first, then the anchors, then a vTPM bundle's
    /// rules, then the guest's inputs (``GuestDefinition/verification``).
    public func check(in catalogue: GuestCatalogue) throws(GuestOptionError) {
        try catalogue.checkPolicy(policyValues, for: guest)
        if seed != nil, trustAnchor != nil {
            throw GuestOptionError("give --seed or --trust-anchor, not both")
        }
        let given = [("--auxblob", auxblob), ("--collateral", collateral), ("--report-data", reportData)]
        let others = (given + [("--trust-anchor", trustAnchor), ("--crl", crl)]).filter { $0.1 != nil }.map(\.0)
        if let refusal = VTPMBundle.refusal(
            personality: vtpm, nonce: nonce, guest: guest, in: catalogue, others: others,
            policyFlags: policyValues.names)
        {
            throw GuestOptionError(refusal)
        }
        if vtpm != nil { return }
        let inputs = guest.verification
        if inputs.auxblob, auxblob == nil {
            throw GuestOptionError("--guest \(guest.name) needs --auxblob FILE (the certificate table)")
        }
        if !inputs.crl, crl != nil {
            throw GuestOptionError("--crl is for --guest \(catalogue.takers(\.crl))")
        }
        if !inputs.collateral, collateral != nil {
            throw GuestOptionError("--collateral is for --guest \(catalogue.takers(\.collateral))")
        }
        if let reportData {
            guard let bytes = Hex.decode(reportData), (1...64).contains(bytes.count) else {
                throw GuestOptionError("--report-data takes 1 to 64 bytes as hex (2 to 128 digits)")
            }
        }
        if !inputs.auxblob, auxblob != nil {
            throw GuestOptionError(
                "a \(guest.name) outblob carries what it needs; --auxblob is for \(catalogue.takers(\.auxblob))")
        }
    }

    /// Verifies the evidence (or with ``vtpm`` the bundle) and returns its claims as JSON; call
    /// ``check(in:)`` first.
    public func run() throws(EvidenceCheck.Failure) -> String {
        let seed = self.seed ?? MockSeed.default
        if let vtpm = vtpm.flatMap(VTPMBundle.Personality.init(rawValue:)), let nonce = nonce.flatMap(Hex.decode) {
            return try EvidenceCheck.runVTPM(
                directory: file, personality: vtpm, guest: guest, nonce: nonce, seed: seed, crl: crl, policy: policy)
        }
        return try EvidenceCheck.run(
            files: files, guest: guest, seed: seed, reportData: reportData.flatMap { Hex.decode($0) },
            policy: policy)
    }
}
