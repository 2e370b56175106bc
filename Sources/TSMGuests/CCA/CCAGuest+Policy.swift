import TSMBytes
import TSMEvidence
import TSMGuest

/// CCA's part of `tsmfs verify`'s policy: the platform token's lifecycle, `--lifecycle` (the
/// states accepted; by default `secured` only, so a debug platform is refused), and the reference
/// values `--platform-config` (claim 2401) and `--sw-component` (claim 2399's measurements).
extension CCAGuest {
    public static var policyOptions: [GuestOption] {
        [
            GuestOption(
                "--lifecycle", value: "STATES",
                "the platform lifecycle states accepted, comma-separated ("
                    + CCALifecycle.states.map(\.name).joined(separator: ", ") + "; debug names "
                    + "non-cca-platform-rot-debug; default: secured)."),
            GuestOption(
                "--platform-config", value: "HEX", "the platform config claim (2401) required, as hex."),
            GuestOption(
                "--sw-component", value: "NAME:HEX",
                "a software component the platform token must carry (claim 2399) with this measurement, "
                    + "repeatable or comma-separated (NAME:HEX[:VERSION[:SIGNER]] also checks those)."),
        ]
    }

    public static func validatePolicy(_ values: GuestOptionValues) throws(GuestOptionError) {
        _ = try lifecycles(values)
        _ = try references(values)
    }

    static func lifecycles(_ values: GuestOptionValues) throws(GuestOptionError) -> [String] {
        guard let text = values["--lifecycle"] else { return ["secured"] }
        let names = text.split(separator: ",").map { $0 == "debug" ? "non-cca-platform-rot-debug" : String($0) }
        for state in names where CCALifecycle.states.allSatisfy({ $0.name != state }) {
            throw GuestOptionError("--lifecycle \(state): not one of \(CCALifecycle.states.map(\.name))")
        }
        return names
    }

    /// `--platform-config` and `--sw-component`'s values.
    static func references(
        _ values: GuestOptionValues
    ) throws(GuestOptionError) -> (config: [UInt8]?, components: [CCASoftwareComponent.Entry]) {
        var config: [UInt8]?
        if let text = values["--platform-config"] {
            switch CCAPlatformClaims.parseConfig(text, option: "--platform-config") {
            case .success(let bytes): config = bytes
            case .failure(let error): throw GuestOptionError(error.description)
            }
        }
        var components: [CCASoftwareComponent.Entry] = []
        if let text = values["--sw-component"] {
            switch CCASoftwareComponent.entries(text, option: "--sw-component") {
            case .success(let entries): components = entries
            case .failure(let error): throw GuestOptionError(error.description)
            }
        }
        return (config, components)
    }

    /// The platform token's lifecycle against the states accepted, then its config and software
    /// components against the reference values given: the first mismatch is the refusal.
    static func applyPolicy(_ policy: VerifyPolicy, platform: CCAPlatformClaims) throws(EvidenceError) {
        guard policy.enforced else { return }
        let accepted: [String]
        let references: (config: [UInt8]?, components: [CCASoftwareComponent.Entry])
        do {
            accepted = try lifecycles(policy.values)
            references = try self.references(policy.values)
        } catch {
            throw VerifyPolicy.badValue(error)
        }
        let lifecycle = platform.lifecycle
        let name = CCALifecycle.name(of: lifecycle) ?? "in no state's range"
        guard accepted.contains(name) else {
            throw VerifyPolicy.refusal(
                "lifecycle", "0x" + String(lifecycle, radix: 16) + " (\(name))",
                "--lifecycle accepts \(accepted.joined(separator: ", "))")
        }
        if let config = references.config, platform.config != config {
            throw VerifyPolicy.refusal(
                "platform_config", Hex.encode(platform.config), "--platform-config requires \(Hex.encode(config))")
        }
        for entry in references.components {
            try check(entry, in: platform.softwareComponents)
        }
    }

    /// One `--sw-component` reference: the component of that type exists and has its measurement
    /// (and version and signer ID, where given).
    static func check(_ entry: CCASoftwareComponent.Entry, in components: [CCASoftwareComponent]) throws(EvidenceError)
    {
        let field = "sw_component \(entry.type)"
        guard let component = components.first(where: { $0.type == entry.type }) else {
            throw VerifyPolicy.refusal(
                field, "absent", "--sw-component requires it with measurement \(Hex.encode(entry.measurement))")
        }
        guard component.measurement == entry.measurement else {
            throw VerifyPolicy.refusal(
                field + " measurement", Hex.encode(component.measurement),
                "--sw-component requires \(Hex.encode(entry.measurement))")
        }
        if let version = entry.version, component.version != version {
            throw VerifyPolicy.refusal(field + " version", component.version, "--sw-component requires \(version)")
        }
        if let signer = entry.signerID, component.signerID != signer {
            throw VerifyPolicy.refusal(
                field + " signer_id", Hex.encode(component.signerID), "--sw-component requires \(Hex.encode(signer))")
        }
    }
}
