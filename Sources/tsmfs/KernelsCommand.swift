import ArgumentParser
import TSMGuests

/// `tsmfs kernels`: the Linux releases `--kernel` models and what each shows, from the one table.
struct KernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "List the Linux releases --kernel models: a release x face matrix (Markdown).",
        discussion: "With --elements, each ABI element with the release and mainline commit that brought it."
    )

    @Flag(help: "List each ABI element with its first release and commit instead.")
    var elements = false

    func run() {
        print(elements ? Guests.catalogue.kernelElements() : Guests.catalogue.kernelMatrix())
    }
}
