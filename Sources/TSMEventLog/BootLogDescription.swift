import FoundationEssentials
import TSMBytes
import TSMModel

/// The JSON form of a boot log, which `BootLog.load` reads and ``encode(_:)`` writes:
///
/// ```json
/// {"events": [
///   {"rtmr": 0, "type": "EV_EFI_ACTION", "text": "Calling EFI Application from Boot Option"},
///   {"rtmr": 2, "type": "EV_IPL", "hex": "2f626f6f742f766d6c696e757a00"},
///   {"rtmr": 1, "type": 2147483651, "text": "bootloader", "digest": "<96 hex digits>"},
///   {"type": "EV_NO_ACTION", "text": "a note, never extended"}
/// ]}
/// ```
///
/// - `rtmr`: 0 to 3 (the log records MR index `rtmr + 1`); required except for `EV_NO_ACTION`,
///   which is logged at MR index 0.
/// - `type`: a PFP event type name (`EV_IPL`, `EV_EFI_ACTION`, ...) or its number.
/// - `text` (UTF-8, no NUL added) or `hex`: the event data; neither means empty.
/// - `digest`: 96 hex digits, what is extended; by default SHA-384 of the event data.
///
/// A bare array of events is accepted as well. Unknown keys are refused, so a typo cannot
/// silently change a measurement.
public enum BootLogDescription {
    /// Decodes a description into a log with TDVF's Spec ID header. Invalid JSON and a key
    /// twice in one object are refused with their line and column.
    public static func decode(_ bytes: [UInt8]) throws(EventLogError) -> TCGEventLog {
        if let problem = JSONSyntax.firstProblem(in: bytes) {
            throw .description("not a valid boot log description: not valid JSON at \(problem)")
        }
        let entries: [Entry]
        let isArray = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } == UInt8(ascii: "[")
        do {
            let decoder = JSONDecoder()
            entries =
                isArray
                ? try decoder.decode([Entry].self, from: Data(bytes))
                : try decoder.decode(Document.self, from: Data(bytes)).events
        } catch DecodingError.dataCorrupted(let context)
            where context.codingPath.isEmpty && context.underlyingError == nil
        {
            // The text is valid JSON (checked above): the decoder refused a number for its field.
            throw .description(
                "not a valid boot log description: a number does not fit its field ('rtmr' is a whole number "
                    + "from 0 to 3, a numeric 'type' one from 0 to 4294967295)")
        } catch {
            throw .description("not a valid boot log description: \(DecodingErrorText.describe(error))")
        }
        try BootLog.checkEventCount(entries.count)
        var events: [TCGEvent] = []
        for (index, entry) in entries.enumerated() {
            events.append(try entry.event(index))
        }
        return TCGEventLog(events: events)
    }

    /// The JSON text of `log`'s records (not its header), which ``decode(_:)`` reads back to the
    /// same records. Event data that is printable ASCII is written as `text`, else as `hex`;
    /// `digest` is written only when it is not SHA-384 of the event data.
    public static func encode(_ log: TCGEventLog) -> String {
        let lines = log.events.map { event -> String in
            var fields: [String] = []
            if let rtmr = event.rtmr { fields.append("\"rtmr\": \(rtmr)") }
            let typeName = TCGEventType.names[event.type.rawValue]
            fields.append("\"type\": " + (typeName.map { "\"\($0)\"" } ?? String(event.type.rawValue)))
            if !event.data.isEmpty {
                if event.data.allSatisfy({
                    (0x20...0x7E).contains($0) && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\")
                }) {
                    fields.append("\"text\": \"\(String(decoding: event.data, as: UTF8.self))\"")
                } else {
                    fields.append("\"hex\": \"\(Hex.encode(event.data))\"")
                }
            }
            let expected =
                event.type == .noAction
                ? [UInt8](repeating: 0, count: TCGEvent.digestSize) : HashAlgorithm.sha384.digest(event.data)
            if event.digest != expected { fields.append("\"digest\": \"\(Hex.encode(event.digest))\"") }
            return "  {" + fields.joined(separator: ", ") + "}"
        }
        return "{\"events\": [\n" + lines.joined(separator: ",\n") + "\n]}\n"
    }

    struct Document: Decodable {
        var events: [Entry]
    }

    struct Entry: Decodable {
        var rtmr: Int?
        var type: TCGEventType
        var data: [UInt8]
        var digest: [UInt8]?

        enum Keys: String, CodingKey, CaseIterable { case rtmr, type, text, hex, digest }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            let known = Set(Keys.allCases.map(\.rawValue))
            if let unknown = container.allKeys.first(where: { !known.contains($0.stringValue) }) {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: container.codingPath + [unknown],
                        debugDescription: "unknown key '\(unknown.stringValue)'"))
            }
            let keyed = try decoder.container(keyedBy: Keys.self)
            rtmr = try keyed.decodeIfPresent(Int.self, forKey: .rtmr)
            if let number = try? keyed.decode(UInt32.self, forKey: .type) {
                type = TCGEventType(rawValue: number)
            } else {
                let name = try keyed.decode(String.self, forKey: .type)
                guard let named = TCGEventType(name: name) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .type, in: keyed, debugDescription: "unknown event type '\(name)'")
                }
                type = named
            }
            let text = try keyed.decodeIfPresent(String.self, forKey: .text)
            let hexText = try keyed.decodeIfPresent(String.self, forKey: .hex)
            switch (text, hexText) {
            case (let text?, nil): data = Array(text.utf8)
            case (nil, let hexText?):
                guard let bytes = Hex.decode(hexText) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .hex, in: keyed, debugDescription: "not an even number of hex digits")
                }
                data = bytes
            case (nil, nil): data = []
            case (_?, _?):
                throw DecodingError.dataCorruptedError(
                    forKey: .hex, in: keyed, debugDescription: "give 'text' or 'hex', not both")
            }
            if let digestText = try keyed.decodeIfPresent(String.self, forKey: .digest) {
                guard let bytes = Hex.decode(digestText), bytes.count == TCGEvent.digestSize else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .digest, in: keyed, debugDescription: "a SHA-384 digest is 96 hex digits")
                }
                digest = bytes
            }
        }

        func event(_ index: Int) throws(EventLogError) -> TCGEvent {
            do throws(EventLogError) {
                if type == .noAction {
                    guard rtmr == nil else {
                        throw .invalidInput(field: "rtmr", reason: "EV_NO_ACTION is never extended; leave 'rtmr' out")
                    }
                    return try TCGEvent(
                        mrIndex: 0, type: type, digest: digest ?? [UInt8](repeating: 0, count: TCGEvent.digestSize),
                        data: data)
                }
                guard let rtmr else { throw .invalidInput(field: "rtmr", reason: "missing (0 to 3)") }
                return try TCGEvent.measurement(rtmr: rtmr, type: type, data: data, digest: digest)
            } catch {
                throw .description("boot log description: event \(index): \(error)")
            }
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
