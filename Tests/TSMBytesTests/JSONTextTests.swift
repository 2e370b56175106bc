import Foundation
import TSMBytes
import Testing

/// The JSON string writer: what it escapes and how, and that JSONSerialization reads back
/// every string it writes.
@Suite struct JSONTextTests {
    @Test func escapesQuotesBackslashesAndControls() {
        #expect(JSONText.quoted("") == "\"\"")
        #expect(JSONText.quoted("plain text") == "\"plain text\"")
        #expect(JSONText.quoted("a\"b\\c") == "\"a\\\"b\\\\c\"")
        #expect(JSONText.quoted("line\nreturn\rtab\t") == "\"line\\nreturn\\rtab\\t\"")
        #expect(JSONText.quoted("\u{0}\u{1f}\u{8}") == "\"\\u0000\\u001f\\u0008\"")
        #expect(JSONText.quoted("/ é 𝄞 \u{7f}") == "\"/ é 𝄞 \u{7f}\"")
    }

    @Test func everyStringReadsBack() throws {
        let samples = [
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "\"quoted\"", "\u{1}\u{2}\\",
            String((0..<128).compactMap { Unicode.Scalar($0).map(Character.init) }),
        ]
        for sample in samples {
            let document = Data("[\(JSONText.quoted(sample))]".utf8)
            #expect(try JSONSerialization.jsonObject(with: document) as? [String] == [sample])
        }
    }
}
