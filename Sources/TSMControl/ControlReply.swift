/// The reply to one request: zero or more information lines, then one status line, `ok`,
/// `ok: DETAIL` or `error: MESSAGE`. A client looks only at the last line to tell success.
public enum ControlReply: Equatable, Sendable {
    /// Success, with the lines before the status line and an optional detail after `ok: `.
    case ok(lines: [String] = [], detail: String? = nil)
    /// Failure; the message follows `error: `.
    case error(String)

    /// Whether the request succeeded.
    public var isOK: Bool {
        if case .ok = self { return true }
        return false
    }

    /// The bytes sent back: every line newline-terminated.
    public var text: String {
        switch self {
        case .ok(let lines, let detail):
            lines.map { $0 + "\n" }.joined() + "ok" + (detail.map { ": " + $0 } ?? "") + "\n"
        case .error(let message):
            "error: \(message)\n"
        }
    }
}
