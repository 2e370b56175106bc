import ArgumentParser
import TSMDaemon
import TSMEvidence
import TSMGuest
import TSMGuests

/// The options that pick and shape a guest sysroot, shared by `mount --sysroot` and `exec`. Which
/// guest takes which option, and what each value may be, is the guests' own (their definitions):
/// here they are only parsed and handed over as ``values``.
struct GuestOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The guest to play: \(Guests.catalogue.list) (default: \(Guests.catalogue.defaultGuest.name)).",
            valueName: "NAME"))
    var guest: GuestName?

    @Option(
        help: ArgumentHelp(
            "The seed the mock attestation keys and certificates derive from (default: \(MockSeed.default)).",
            valueName: "S"))
    var seed: String?

    @Option(name: .customLong("privlevel-floor"), help: help("--privlevel-floor")) var privlevelFloor: UInt32?
    @Flag(help: help("--svsm")) var svsm = false
    @Option(name: .customLong("boot-log"), help: help("--boot-log")) var bootLog: String?
    @Option(name: .customLong("tcb-status"), help: help("--tcb-status")) var tcbStatus: TCBStatus?
    @Option(name: .customLong("tdx-module"), help: help("--tdx-module")) var tdxModule: String?
    @Option(name: .customLong("td-attributes"), help: help("--td-attributes")) var tdAttributes: String?
    @Option(name: .customLong("xfam"), help: help("--xfam")) var xfam: String?
    @Option(name: .customLong("tdx-driver"), help: help("--tdx-driver")) var tdxDriver: String?
    @Option(name: .customLong("snp-policy"), help: help("--snp-policy")) var snpPolicy: String?
    @Option(name: .customLong("reported-tcb"), help: help("--reported-tcb")) var reportedTCB: String?
    @Option(name: .customLong("committed-tcb"), help: help("--committed-tcb")) var committedTCB: String?
    @Option(name: .customLong("launch-tcb"), help: help("--launch-tcb")) var launchTCB: String?
    @Option(name: .customLong("signing-key"), help: help("--signing-key")) var signingKey: String?
    @Option(name: .customLong("id-key"), help: help("--id-key")) var idKey: String?
    @Option(name: .customLong("author-key"), help: help("--author-key")) var authorKey: String?
    @Option(name: .customLong("cca-lifecycle"), help: help("--cca-lifecycle")) var ccaLifecycle: String?
    @Option(name: .customLong("cca-platform-config"), help: help("--cca-platform-config")) var ccaConfig: String?
    @Option(name: .customLong("cca-sw-component"), help: help("--cca-sw-component")) var ccaComponents: [String] = []
    @Option(name: .customLong("realm-personalization"), help: help("--realm-personalization")) var realmPersonalization:
        String?
    @Option(name: .customLong("cca-token-format"), help: help("--cca-token-format")) var ccaTokenFormat:
        CCAToken.Format?
    @Option(name: .customLong("vtpm"), help: help("--vtpm")) var vtpm: String?

    // Unconditional: `--kernel -1` is a value to refuse by the grammar, not a missing value.
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            """
            Show what this Linux release shows (`tsmfs kernels` lists them), and nothing it lacks. VERSION is \
            \(KernelRelease.grammar). Default: the newest modelled.
            """,
            valueName: "VERSION"))
    var kernel: String?

    @Flag(
        name: .customLong("no-unified"),
        help:
            """
            Leave out the RFC v2 tree at sys/kernel/tsm (tsmfs's unified view, which no release has): a \
            release-exact image.
            """
    )
    var noUnified = false

    /// The guest-specific options given, in the order declared above.
    var values: GuestOptionValues {
        var values = GuestOptionValues()
        if let privlevelFloor { values.set("--privlevel-floor", String(privlevelFloor)) }
        if svsm { values.set("--svsm") }
        if let bootLog { values.set("--boot-log", bootLog) }
        if let tcbStatus { values.set("--tcb-status", tcbStatus.rawValue) }
        if let tdxModule { values.set("--tdx-module", tdxModule) }
        if let tdAttributes { values.set("--td-attributes", tdAttributes) }
        if let xfam { values.set("--xfam", xfam) }
        if let tdxDriver { values.set("--tdx-driver", tdxDriver) }
        if let snpPolicy { values.set("--snp-policy", snpPolicy) }
        if let reportedTCB { values.set("--reported-tcb", reportedTCB) }
        if let committedTCB { values.set("--committed-tcb", committedTCB) }
        if let launchTCB { values.set("--launch-tcb", launchTCB) }
        if let signingKey { values.set("--signing-key", signingKey) }
        if let idKey { values.set("--id-key", idKey) }
        if let authorKey { values.set("--author-key", authorKey) }
        if let ccaLifecycle { values.set("--cca-lifecycle", ccaLifecycle) }
        if let ccaConfig { values.set("--cca-platform-config", ccaConfig) }
        if !ccaComponents.isEmpty { values.set("--cca-sw-component", ccaComponents.joined(separator: ",")) }
        if let realmPersonalization { values.set("--realm-personalization", realmPersonalization) }
        if let ccaTokenFormat { values.set("--cca-token-format", ccaTokenFormat.rawValue) }
        if let vtpm { values.set("--vtpm", vtpm) }
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

/// A guest option's help, as its guest's definition words it.
private func help(_ name: String) -> ArgumentHelp {
    let option = Guests.catalogue.option(name)
    return ArgumentHelp(option.help, valueName: option.valueName)
}
