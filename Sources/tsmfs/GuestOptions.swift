import ArgumentParser
import TSMEvidence

/// The options that pick and shape a guest sysroot, shared by `mount --sysroot` and `exec`.
struct GuestOptions: ParsableArguments {
    @Option(help: "The guest to play: tdx or sev-snp.")
    var guest: Guest = .tdx

    @Option(help: ArgumentHelp("The seed the mock attestation keys and certificates derive from.", valueName: "S"))
    var seed: String = MockAuthority.defaultSeed

    @Option(name: .customLong("privlevel-floor"), help: ArgumentHelp("SEV-SNP: the VMPCK the guest driver uses (0-3); reports at a lower privlevel are refused.", valueName: "N"))
    var privlevelFloor: UInt32 = 0

    @Flag(help: "SEV-SNP: run under an SVSM, which shows service_provider, service_guid, service_manifest_version and manifestblob.")
    var svsm = false

    func validate() throws {
        if svsm && guest != .sevSNP { throw ValidationError("--svsm needs --guest sev-snp") }
        guard privlevelFloor <= 3 else { throw ValidationError("--privlevel-floor is 0 to 3") }
    }

    /// The same options as command-line words, to hand to another tsmfs process.
    var arguments: [String] {
        ["--guest", guest.rawValue, "--seed", seed, "--privlevel-floor", String(privlevelFloor)] + (svsm ? ["--svsm"] : [])
    }
}

extension ProviderOptions {
    var arguments: [String] {
        providers.flatMap { ["--provider", $0] } + (config.map { ["--config", $0] } ?? [])
    }
}
