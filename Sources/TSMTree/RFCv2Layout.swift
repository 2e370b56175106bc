import FuseKit
import TSMModel

/// The RFC v2 tree (ABI.md 2.1): the mount root is `/sys/kernel/tsm`, one directory per provider,
/// each register a directory with `digest` and `hash_algo`, or with F a plain file in the provider
/// directory.
public enum RFCv2Layout {
    /// Adds every provider under `parent` (the root of an RFC v2 mount).
    public static func add(_ providers: [MeasurementProvider], to builder: inout TreeBuilder, under parent: InodeNumber)
    {
        for provider in providers {
            let directory = builder.addDirectory(provider.name, in: parent)
            for (index, register) in provider.table.registers.enumerated() {
                let value = RegisterAttribute(provider: provider, index: index)
                if register.flags.contains(.file) {
                    builder.addFile(register.name, in: directory, value)
                } else {
                    let registerDirectory = builder.addDirectory(register.name, in: directory)
                    builder.addFile("digest", in: registerDirectory, value)
                    // Validation guarantees a hash for every directory register.
                    builder.addFile("hash_algo", in: registerDirectory, TextAttribute(register.hash?.rawValue ?? ""))
                }
            }
        }
    }

    /// A tree whose root is the RFC v2 `/sys/kernel/tsm`.
    public static func tree(_ providers: [MeasurementProvider]) -> Tree {
        var builder = TreeBuilder()
        add(providers, to: &builder, under: builder.root)
        return builder.build()
    }
}
