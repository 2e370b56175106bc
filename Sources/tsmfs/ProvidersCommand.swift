import ArgumentParser
import TSMModel

/// `tsmfs providers`: the register tables tsmfs would serve.
struct ProvidersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "providers",
        abstract: "List the providers and their registers.",
        discussion: "With --json, prints a config file that --config reads back to the same tables."
    )

    @OptionGroup var providerOptions: ProviderOptions

    @Flag(help: "Print the tables as a JSON provider config.")
    var json = false

    func run() throws {
        let descriptors: [ProviderDescriptor]
        do {
            descriptors = try providerOptions.descriptors()
        } catch {
            throw Failure(error.description)
        }
        print(json ? ProviderConfig.encode(descriptors) : ProviderListing.text(descriptors), terminator: "")
    }
}
