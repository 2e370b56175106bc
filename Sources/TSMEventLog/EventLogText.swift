import TSMBytes

/// The text `tsmfs log` prints: one line per record, and the replayed RTMRs.
///
/// ```text
/// boot     1  rtmr0  EV_EFI_PLATFORM_FIRMWARE_BLOB2  3a5c...  03434656...
/// runtime  0  rtmr2  EV_EVENT_TAG                    9f86...  tag TSMF "my-app v1"
/// rtmr0: 8c7a...
/// ```
public enum EventLogText {
    /// One line per record: source, index within the source, register, type, digest, event.
    public static func lines(boot: TCGEventLog, runtime: [TCGEvent]) -> [String] {
        var lines = ["boot     -  -      EV_NO_ACTION  Spec ID Event03 (\(boot.header.algorithms.count) algorithm(s))"]
        for (index, event) in boot.events.enumerated() { lines.append(line("boot   ", index, event)) }
        for (index, event) in runtime.enumerated() { lines.append(line("runtime", index, event)) }
        return lines
    }

    /// `rtmrN: <96 hex digits>` for each register.
    public static func replayLines(_ registers: [[UInt8]]) -> [String] {
        registers.enumerated().map { "rtmr\($0.offset): \(Hex.encode($0.element))" }
    }

    static func line(_ source: String, _ index: Int, _ event: TCGEvent) -> String {
        let register = event.rtmr.map { "rtmr\($0)" } ?? "mr\(event.mrIndex)"
        return "\(source)  \(index)  \(register)  \(event.type)  \(Hex.encode(event.digest))  \(describe(event))"
    }

    /// The event data as text when it is printable, as a tagged event when its type says so,
    /// else as hex (the first 64 bytes).
    public static func describe(_ event: TCGEvent) -> String {
        if event.type == .eventTag, let tagged = try? TaggedEvent(decoding: event.data) {
            let tag = tagged.id == TaggedEvent.tsmfsExtendID ? "TSMF" : "0x" + String(tagged.id, radix: 16)
            return "tag \(tag)" + (tagged.data.isEmpty ? "" : " " + describe(tagged.data))
        }
        return describe(event.data)
    }

    static func describe(_ data: [UInt8]) -> String {
        var text = data
        if text.last == 0 { text.removeLast() }
        if !text.isEmpty, text.allSatisfy({ (0x20...0x7E).contains($0) }) {
            return "\"" + String(decoding: text, as: UTF8.self) + "\""
        }
        return Hex.encode(Array(data.prefix(64))) + (data.count > 64 ? "... (\(data.count) bytes)" : "")
    }
}
