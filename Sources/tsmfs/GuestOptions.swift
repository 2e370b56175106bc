import ArgumentParser
import TSMBackends
import TSMEventLog
import TSMGuest
import TSMModel
import TSMEvidence
import TSMBytes

/// The options that pick and shape a guest sysroot, shared by `mount --sysroot` and `exec`.
struct GuestOptions: ParsableArguments {
    @Option(help: "The guest to play: tdx, sev-snp or cca.")
    var guest: Guest = .tdx

    @Option(help: ArgumentHelp("The seed the mock attestation keys and certificates derive from.", valueName: "S"))
    var seed: String = MockAuthority.defaultSeed

    @Option(name: .customLong("privlevel-floor"), help: ArgumentHelp("SEV-SNP: the VMPCK the guest driver uses (0-3, default 0); reports at a lower privlevel are refused.", valueName: "N"))
    var privlevelFloorOption: UInt32?

    var privlevelFloor: UInt32 { privlevelFloorOption ?? 0 }

    @Flag(help: "SEV-SNP: run under an SVSM, which shows service_provider, service_guid, service_manifest_version and manifestblob.")
    var svsm = false

    @Option(name: .customLong("boot-log"), help: ArgumentHelp("TDX: a boot log, binary TCG2 (as data/CCEL holds it) or a JSON description, whose replay gives the RTMRs their initial values (default: a small synthetic boot).", valueName: "FILE"))
    var bootLog: String?

    @Option(name: .customLong("realm-personalization"), help: ArgumentHelp("CCA: the realm personalization value, 64 bytes as 128 hex digits (default: zeros).", valueName: "HEX"))
    var realmPersonalization: String?

    @Option(name: .customLong("cca-token-format"), help: ArgumentHelp("CCA: tag399 (RMM 1.0, the default) or cmw (the tag-907 CMW collection of TF-RMM v0.9).", valueName: "FORMAT"))
    var ccaTokenFormat: CCAToken.Format?

    @Option(help: ArgumentHelp("Show what this Linux release shows (`tsmfs kernels` lists them), and nothing it lacks. Default: the newest modelled.", valueName: "VERSION"))
    var kernel: String?

    @Flag(name: .customLong("no-unified"), help: "Leave out the RFC v2 tree at sys/kernel/tsm (tsmfs's unified view, which no release has): a release-exact image.")
    var noUnified = false

    func validate() throws {
        if ccaTokenFormat != nil, guest != .cca { throw ValidationError("--cca-token-format needs --guest cca") }
        if let realmPersonalization {
            guard guest == .cca else { throw ValidationError("--realm-personalization needs --guest cca") }
            guard Hex.decode(realmPersonalization)?.count == 64 else {
                throw ValidationError("--realm-personalization is 64 bytes: 128 hex digits")
            }
        }
        if svsm && guest != .sevSNP { throw ValidationError("--svsm needs --guest sev-snp") }
        guard privlevelFloor <= 3 else { throw ValidationError("--privlevel-floor is 0 to 3") }
        if privlevelFloorOption != nil && guest != .sevSNP { throw ValidationError("--privlevel-floor needs --guest sev-snp") }
        if bootLog != nil && guest != .tdx { throw ValidationError("--boot-log needs --guest tdx") }
        let probe = GuestSpec(guest: guest, privlevelFloor: privlevelFloor, svsm: svsm, kernel: try release())
        if let refusal = probe.kernelRefusal { throw ValidationError(refusal.description) }
    }

    /// The release of `--kernel`, or the newest modelled.
    func release() throws -> KernelRelease {
        guard let kernel else { return .newest }
        do {
            return try KernelRelease.parse(kernel)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The boot log of `--boot-log`, or nil for the default.
    func loadBootLog() throws -> TCGEventLog? {
        guard let bootLog else { return nil }
        do {
            return try BootLog.load(try ProviderSelection.readFile(bootLog))
        } catch let error as ProviderSelection.Failure {
            throw Failure(error.description)
        } catch {
            throw Failure("\(bootLog): \(error)")
        }
    }

    /// The guest to assemble, serving `providers` under `sys/kernel/tsm`.
    func spec(providers: [ProviderDescriptor], faults: [FaultSpec]) throws -> GuestSpec {
        var spec = GuestSpec(guest: guest, seed: seed, privlevelFloor: privlevelFloor, svsm: svsm, bootLog: try loadBootLog(),
                             providers: providers, faults: faults, kernel: try release(), unified: !noUnified)
        if let personalization = realmPersonalization.flatMap(Hex.decode) { spec.realmPersonalization = personalization }
        if let ccaTokenFormat { spec.ccaTokenFormat = ccaTokenFormat }
        return spec
    }

    /// The same options as command-line words, to hand to another tsmfs process.
    var arguments: [String] {
        ["--guest", guest.rawValue, "--seed", seed] + (privlevelFloorOption.map { ["--privlevel-floor", String($0)] } ?? [])
            + (svsm ? ["--svsm"] : []) + (bootLog.map { ["--boot-log", $0] } ?? []) + (kernel.map { ["--kernel", $0] } ?? [])
            + (noUnified ? ["--no-unified"] : []) + (realmPersonalization.map { ["--realm-personalization", $0] } ?? [])
            + (ccaTokenFormat.map { ["--cca-token-format", $0.rawValue] } ?? [])
    }

    /// The options given that shape a guest, by name: refused where no guest is served.
    var given: [String] {
        var names: [String] = []
        if CommandLine.arguments.contains("--guest") { names.append("--guest") }
        if CommandLine.arguments.contains("--seed") { names.append("--seed") }
        if privlevelFloorOption != nil { names.append("--privlevel-floor") }
        if svsm { names.append("--svsm") }
        if bootLog != nil { names.append("--boot-log") }
        if kernel != nil { names.append("--kernel") }
        if noUnified { names.append("--no-unified") }
        if realmPersonalization != nil { names.append("--realm-personalization") }
        if ccaTokenFormat != nil { names.append("--cca-token-format") }
        return names
    }
}

extension ProviderOptions {
    var arguments: [String] {
        providers.flatMap { ["--provider", $0] } + (config.map { ["--config", $0] } ?? [])
    }
}

extension CCAToken.Format: ExpressibleByArgument {}
