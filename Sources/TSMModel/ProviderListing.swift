/// The register tables as `tsmfs providers` prints them: each provider's name, then one line per
/// register with its shape (a file, or a directory/ of attributes), hash, size, mode and flags.
public enum ProviderListing {
    /// The listing of `descriptors`, every line ending in a newline.
    public static func text(_ descriptors: [ProviderDescriptor]) -> String {
        var text = ""
        for provider in descriptors {
            text += "\(provider.name)/\n"
            for register in provider.registers {
                let shape = register.flags.contains(.file) ? register.name : register.name + "/"
                let mode = String(register.flags.fileMode, radix: 8)
                let padded = String(repeating: "0", count: max(0, 4 - mode.count)) + mode
                let hash = register.hash?.rawValue ?? "-"
                text +=
                    """
                      \(rightPadded(shape, 18)) \(rightPadded(hash, 7)) \(leftPadded(String(register.size), 5)) \
                    bytes  \(padded)  \(register.flags.letterList.joined())\n
                    """
            }
        }
        return text
    }

    private static func rightPadded(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    private static func leftPadded(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
