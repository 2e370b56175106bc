/// JSON text written by hand where the exact bytes matter (the TDX collateral is signed over its
/// text; `tsmfs verify` prints one field a line): the one string writer every such place uses.
public enum JSONText {
    /// `value` as a JSON string (RFC 8259 section 7): in double quotes, `"` and `\` escaped, the
    /// control characters \n, \r and \t in their short form and the others as `\u00XX` (lowercase
    /// hex); everything else, non-ASCII included, as it is.
    public static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
