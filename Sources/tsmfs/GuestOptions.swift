import ArgumentParser
import TSMDaemon
import TSMEvidence
import TSMGuest
import TSMGuests

/// The options that pick and shape a guest sysroot, shared by `mount --sysroot` and `exec`. Which
/// guest takes which option, and what each value may be, is the guests' own (their definitions):
/// here they are only parsed and handed over as ``values``.
struct GuestOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The guest to play: \(Guests.catalogue.list) (default: \(Guests.catalogue.defaultGuest.name)).",
                               valueName: "NAME"))
    var guest: GuestName?

    @Option(help: ArgumentHelp("The seed the mock attestation keys and certificates derive from (default: \(MockSeed.default)).",
                               valueName: "S"))
    var seed: String?

    @Option(name: .customLong("privlevel-floor"), help: ArgumentHelp("SEV-SNP: the VMPCK the guest driver uses (0-3, default 0); reports at a lower privlevel are refused.", valueName: "N"))
    var privlevelFloor: UInt32?

    @Flag(help: "SEV-SNP: run under an SVSM, which shows service_provider, service_guid, service_manifest_version and manifestblob.")
    var svsm = false

    @Option(name: .customLong("boot-log"), help: ArgumentHelp("TDX: a boot log, binary TCG2 (as data/CCEL holds it) or a JSON description, whose replay gives the RTMRs their initial values (default: a small synthetic boot).", valueName: "FILE"))
    var bootLog: String?

    @Option(name: .customLong("tcb-status"), help: ArgumentHelp("TDX: the TCB status of the mock platform in the mock collateral (UpToDate, SWHardeningNeeded, ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded, Revoked; default UpToDate).", valueName: "STATUS"))
    var tcbStatus: TCBStatus?

    @Option(name: .customLong("tdx-module"), help: ArgumentHelp("TDX: the TDX module version, 1.0 (Quote v4, default) or 1.5 (Quote v5 with a TD 1.5 body: TEE_TCB_SVN2, MRSERVICETD zero).", valueName: "VERSION"))
    var tdxModule: String?

    @Option(name: .customLong("realm-personalization"), help: ArgumentHelp("CCA: the realm personalization value, 64 bytes as 128 hex digits (default: zeros).", valueName: "HEX"))
    var realmPersonalization: String?

    @Option(name: .customLong("cca-token-format"), help: ArgumentHelp("CCA: tag399 (RMM 1.0, the default) or cmw (the tag-907 CMW collection of TF-RMM v0.9).", valueName: "FORMAT"))
    var ccaTokenFormat: CCAToken.Format?

    @Option(help: ArgumentHelp("Show what this Linux release shows (`tsmfs kernels` lists them), and nothing it lacks. Default: the newest modelled.", valueName: "VERSION"))
    var kernel: String?

    @Flag(name: .customLong("no-unified"), help: "Leave out the RFC v2 tree at sys/kernel/tsm (tsmfs's unified view, which no release has): a release-exact image.")
    var noUnified = false

    /// The guest-specific options given, in the order declared above.
    var values: GuestOptionValues {
        var values = GuestOptionValues()
        if let privlevelFloor { values.set("--privlevel-floor", String(privlevelFloor)) }
        if svsm { values.set("--svsm") }
        if let bootLog { values.set("--boot-log", bootLog) }
        if let tcbStatus { values.set("--tcb-status", tcbStatus.rawValue) }
        if let tdxModule { values.set("--tdx-module", tdxModule) }
        if let realmPersonalization { values.set("--realm-personalization", realmPersonalization) }
        if let ccaTokenFormat { values.set("--cca-token-format", ccaTokenFormat.rawValue) }
        return values
    }

    func validate() throws {
        do throws(DaemonSpec.Refusal) {
            try DaemonSpec.checkGuest(guest?.definition.name, options: values, kernel: kernel, in: Guests.catalogue)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The options given that shape a guest, by name: refused where no guest is served.
    var given: [String] {
        var names: [String] = []
        if guest != nil { names.append("--guest") }
        if seed != nil { names.append("--seed") }
        names += values.names
        if kernel != nil { names.append("--kernel") }
        if noUnified { names.append("--no-unified") }
        return names
    }
}

/// A `--guest` value: one of the catalogue's guests.
struct GuestName: ExpressibleByArgument {
    let definition: any GuestDefinition.Type

    init?(argument: String) {
        guard let definition = Guests.catalogue.named(argument) else { return nil }
        self.definition = definition
    }

    static var allValueStrings: [String] { Guests.catalogue.names }
}

extension CCAToken.Format: ExpressibleByArgument {}
