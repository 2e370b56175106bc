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
        if json {
            print(ProviderConfig.encode(descriptors), terminator: "")
            return
        }
        for provider in descriptors {
            print("\(provider.name)/")
            for register in provider.registers {
                let shape = register.flags.contains(.file) ? register.name : register.name + "/"
                let mode = String(register.flags.fileMode, radix: 8)
                let padded = String(repeating: "0", count: max(0, 4 - mode.count)) + mode
                let hash = register.hash?.rawValue ?? "-"
                print("  \(shape.rightPadded(18)) \(hash.rightPadded(7)) \(String(register.size).leftPadded(5)) bytes  \(padded)  \(register.flags.letterList.joined())")
            }
        }
    }
}

extension String {
    func rightPadded(_ width: Int) -> String {
        self + String(repeating: " ", count: max(0, width - count))
    }

    func leftPadded(_ width: Int) -> String {
        String(repeating: " ", count: max(0, width - count)) + self
    }
}
