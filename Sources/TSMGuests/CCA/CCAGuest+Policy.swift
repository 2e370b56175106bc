import TSMEvidence
import TSMGuest

/// CCA's part of `tsmfs verify`'s policy: the platform token's lifecycle, `--lifecycle` (the
/// states accepted; by default `secured` only, so a debug platform is refused).
extension CCAGuest {
    public static var policyOptions: [GuestOption] {
        [
            GuestOption(
                "--lifecycle", value: "STATES",
                "the platform lifecycle states accepted, comma-separated ("
                    + CCALifecycle.states.map(\.name).joined(separator: ", ") + "; debug names "
                    + "non-cca-platform-rot-debug; default: secured).")
        ]
    }

    public static func validatePolicy(_ values: GuestOptionValues) throws(GuestOptionError) {
        _ = try lifecycles(values)
    }

    static func lifecycles(_ values: GuestOptionValues) throws(GuestOptionError) -> [String] {
        guard let text = values["--lifecycle"] else { return ["secured"] }
        let names = text.split(separator: ",").map { $0 == "debug" ? "non-cca-platform-rot-debug" : String($0) }
        for state in names where CCALifecycle.states.allSatisfy({ $0.name != state }) {
            throw GuestOptionError("--lifecycle \(state): not one of \(CCALifecycle.states.map(\.name))")
        }
        return names
    }

    /// The platform token's lifecycle against the states accepted.
    static func applyPolicy(_ policy: VerifyPolicy, lifecycle: UInt64) throws(EvidenceError) {
        guard policy.enforced else { return }
        let accepted: [String]
        do {
            accepted = try lifecycles(policy.values)
        } catch {
            throw VerifyPolicy.badValue(error)
        }
        let name = CCALifecycle.name(of: lifecycle) ?? "in no state's range"
        guard accepted.contains(name) else {
            throw VerifyPolicy.refusal(
                "lifecycle", "0x" + String(lifecycle, radix: 16) + " (\(name))",
                "--lifecycle accepts \(accepted.joined(separator: ", "))")
        }
    }
}
