import TSMEvidence
import TSMGuest

/// TDX's part of `tsmfs verify`'s policy: TDATTRIBUTES.DEBUG and `--min-tcb` (a TCB status, the
/// worst accepted; Revoked is refused by the collateral check itself).
extension TDXGuest {
    public static let policyOptions = [
        GuestOption(
            "--min-tcb", value: "TCB",
            "the worst TCB status accepted (" + TCBStatus.allCases.map(\.rawValue).joined(separator: ", ") + ").")
    ]

    public static func validatePolicy(_ values: GuestOptionValues) throws(GuestOptionError) {
        _ = try minTCBStatus(values)
    }

    static func minTCBStatus(_ values: GuestOptionValues) throws(GuestOptionError) -> TCBStatus? {
        guard let text = values["--min-tcb"] else { return nil }
        guard let status = TCBStatus(rawValue: text) else {
            throw GuestOptionError("--min-tcb \(text): for tdx a TCB status")
        }
        return status
    }

    /// TDATTRIBUTES (little-endian u64) and the collateral's TCB status, if one was checked.
    static func applyPolicy(_ policy: VerifyPolicy, tdAttributes: [UInt8], tcbStatus: TCBStatus?) throws(EvidenceError)
    {
        guard policy.enforced else { return }
        let attributes = tdAttributes.prefix(8).enumerated().reduce(UInt64(0)) {
            $0 | UInt64($1.element) << (8 * $1.offset)
        }
        if !policy.allowDebug, attributes & (1 << UInt64(TDAttributes.debugBit)) != 0 {
            throw VerifyPolicy.refusal(
                "td_attributes", "0x" + String(attributes, radix: 16), "DEBUG (bit 0) is set; --allow-debug accepts it")
        }
        let minimum: TCBStatus?
        do {
            minimum = try minTCBStatus(policy.values)
        } catch {
            throw VerifyPolicy.badValue(error)
        }
        if let minimum, let tcbStatus,
            TCBStatus.allCases.firstIndex(of: tcbStatus) ?? 0 > TCBStatus.allCases.firstIndex(of: minimum) ?? 0
        {
            throw VerifyPolicy.refusal("tcb_status", tcbStatus.rawValue, "worse than --min-tcb \(minimum.rawValue)")
        }
    }
}
