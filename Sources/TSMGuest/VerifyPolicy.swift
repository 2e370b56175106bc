import TSMEvidence

/// The relying party's policy `tsmfs verify` applies once the evidence's signatures and chain
/// have verified: each guest's ``GuestDefinition/verify(_:)`` checks what its format carries.
/// The default refuses a debug guest, a CCA platform outside the secured lifecycle and a TDX
/// Revoked TCB (the collateral check's own); ``none`` skips it, as a verifier without a policy.
public struct VerifyPolicy: Sendable, Equatable {
    /// Accept a debug guest (TDX TDATTRIBUTES.DEBUG, SEV-SNP policy DEBUG).
    public var allowDebug = false
    /// TDX: the worst TCB status accepted (by ``TCBStatus``'s order of severity).
    public var minTCBStatus: TCBStatus?
    /// SEV-SNP: the lowest REPORTED_TCB accepted, SPL by SPL.
    public var minSNPTCB: SNPTCB?
    /// SEV-SNP: the key that must have signed (SIGNING_KEY 0 = VCEK, 1 = VLEK).
    public var signingKey: SigningKey?
    /// CCA: the lifecycle states accepted, by ``CCALifecycle`` name; nil: none is checked.
    public var lifecycles: [String]? = ["secured"]

    /// SEV-SNP's SIGNING_KEY values (ATTESTATION_REPORT SIGNER_INFO bits 4:2).
    public typealias SigningKey = SNPSigningKey

    /// The default: no debug, secured CCA lifecycles only.
    public static let `default` = VerifyPolicy()
    /// No policy at all: what a verifier that checks only signatures accepts.
    public static let none = VerifyPolicy(allowDebug: true, lifecycles: nil)

    public init(
        allowDebug: Bool = false, minTCBStatus: TCBStatus? = nil, minSNPTCB: SNPTCB? = nil,
        signingKey: SigningKey? = nil, lifecycles: [String]? = ["secured"]
    ) {
        self.allowDebug = allowDebug
        self.minTCBStatus = minTCBStatus
        self.minSNPTCB = minSNPTCB
        self.signingKey = signingKey
        self.lifecycles = lifecycles
    }

    /// A refusal naming `field` and its value: "policy: FIELD is VALUE: WHY".
    public static func refusal(_ field: String, _ value: String, _ why: String) -> EvidenceError {
        .failed(.policy, reason: "\(field) is \(value): \(why)")
    }

    /// TDX: TDATTRIBUTES (little-endian u64) and the collateral's TCB status, if checked.
    public func checkTDX(tdAttributes: [UInt8], tcbStatus: TCBStatus?) throws(EvidenceError) {
        let attributes = tdAttributes.prefix(8).enumerated().reduce(UInt64(0)) {
            $0 | UInt64($1.element) << (8 * $1.offset)
        }
        if !allowDebug, attributes & (1 << UInt64(TDAttributes.debugBit)) != 0 {
            throw Self.refusal(
                "td_attributes", "0x" + String(attributes, radix: 16), "DEBUG (bit 0) is set; --allow-debug accepts it")
        }
        if let minTCBStatus, let tcbStatus,
            TCBStatus.allCases.firstIndex(of: tcbStatus) ?? 0 > TCBStatus.allCases.firstIndex(of: minTCBStatus) ?? 0
        {
            throw Self.refusal("tcb_status", tcbStatus.rawValue, "worse than --min-tcb \(minTCBStatus.rawValue)")
        }
    }

    /// SEV-SNP: the report's POLICY, REPORTED_TCB and SIGNING_KEY.
    public func checkSNP(_ report: SNPReport) throws(EvidenceError) {
        if !allowDebug, report.policy & (1 << UInt64(SNPGuestPolicy.debugBit)) != 0 {
            throw Self.refusal(
                "policy", "0x" + String(report.policy, radix: 16), "DEBUG (bit 19) is set; --allow-debug accepts it")
        }
        if let minSNPTCB {
            let tcb = report.reportedTCB
            let fields: [(String, UInt8, UInt8)] = [
                ("bl", tcb.bootloader, minSNPTCB.bootloader), ("tee", tcb.tee, minSNPTCB.tee),
                ("snp", tcb.snp, minSNPTCB.snp), ("ucode", tcb.microcode, minSNPTCB.microcode),
            ]
            for (name, value, minimum) in fields where value < minimum {
                throw Self.refusal(
                    "reported_tcb", tcb.splText, "\(name) \(value) is below --min-tcb's \(minimum)")
            }
        }
        if let signingKey, report.signingKey != signingKey.field {
            let names = ["vcek", "vlek"]
            let actual = names.indices.contains(Int(report.signingKey)) ? names[Int(report.signingKey)] : "none"
            throw Self.refusal(
                "signing_key", "\(report.signingKey) (\(actual))", "--signing-key \(signingKey.rawValue) is required")
        }
    }

    /// CCA: the platform token's lifecycle.
    public func checkCCA(lifecycle: UInt64) throws(EvidenceError) {
        guard let lifecycles else { return }
        let name = CCALifecycle.name(of: lifecycle) ?? "in no state's range"
        guard lifecycles.contains(name) else {
            throw Self.refusal(
                "lifecycle", "0x" + String(lifecycle, radix: 16) + " (\(name))",
                "--lifecycle accepts \(lifecycles.joined(separator: ", "))")
        }
    }
}
