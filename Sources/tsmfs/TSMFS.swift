import ArgumentParser
import TSMBytes
import TSMGuest
import TSMGuests
import TSMModel

/// The `tsmfs` command: a root listing its subcommands, one file per subcommand.
@main
struct TSMFS: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "tsmfs",
        abstract: "Serve the Linux TSM measurement-register ABI (/sys/kernel/tsm) from a FUSE mount.",
        discussion: """
            tsmfs mounts the RFC v2 /sys/kernel/tsm tree over a software register model, so that \
            attestation software can be developed and tested on any Linux host with cat, xxd and dd.
            """,
        version: version,
        subcommands: [
            MountCommand.self, ExecCommand.self, CtlCommand.self, LogCommand.self, ProvidersCommand.self,
            KernelsCommand.self, TrustAnchorCommand.self, CertsCommand.self, KDSCommand.self, VerifyCommand.self,
            CollateralCommand.self, PCCSCommand.self,
        ]
    )

    /// ArgumentParser's own, after a look at the first argument: a subcommand misspelled by at most
    /// two letters (`tsmfs mout`) is a usage error that names the subcommand meant; ArgumentParser
    /// only says "Unexpected argument".
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let first = arguments.first, let meant = suggestion(for: first) {
            exit(withError: ValidationError("unknown subcommand '\(first)'; did you mean '\(meant)'?"))
        }
        main(arguments)
    }

    /// The subcommand `word` is a misspelling of, or nil: nil for an option, a subcommand, `help`,
    /// or a word more than two edits away from every subcommand.
    static func suggestion(for word: String) -> String? {
        guard !word.hasPrefix("-"), word != "help" else { return nil }
        return Spelling.nearest(word, among: configuration.subcommands.compactMap { $0.configuration.commandName })
    }
}

/// Options every command that picks providers shares.
struct ProviderOptions: ParsableArguments {
    @Option(
        name: .customLong("provider"),
        help: ArgumentHelp(
            "Only this provider (repeatable). Default: every built-in and configured provider.", valueName: "NAME"))
    var providers: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A JSON file of provider tables; a provider named like a built-in one replaces it.", valueName: "FILE"))
    var config: String?

    /// The providers these options select among `defaults` and the configured ones.
    func descriptors(defaults: [ProviderDescriptor] = Guests.catalogue.plainProviders)
        throws(ProviderSelection.Failure) -> [ProviderDescriptor]
    {
        try ProviderSelection.descriptors(
            named: providers, config: config, defaults: defaults,
            catalogue: Guests.catalogue.providerCatalogue)
    }
}
