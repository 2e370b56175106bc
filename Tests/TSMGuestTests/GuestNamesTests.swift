import Foundation
import TSMGuest
import TSMGuests
import Testing

/// The rule that keeps a guest one definition: no code outside the guests' own folders and
/// their list (Sources/TSMGuests) spells a guest's name; it asks the definition instead.
@Suite("guest names are written only in the guests' definitions")
struct GuestNamesTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")

    /// `"NAME"` literals of the catalogue's guests in `text`, one line each ("LINE: TEXT").
    static func literals(in text: String, names: [String]) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.enumerated().compactMap { number, line in
            names.contains { line.contains("\"\($0)\"") } ? "\(number + 1): \(line)" : nil
        }
    }

    @Test("no guest-name string literal in Sources outside Sources/TSMGuests")
    func noLiterals() throws {
        let names = Guests.catalogue.names
        let files = try #require(FileManager.default.enumerator(atPath: Self.sources.path)?.allObjects as? [String])
        let outside = files.filter { $0.hasSuffix(".swift") && !$0.hasPrefix("TSMGuests/") }
        #expect(outside.count > 100, "Sources/ was not found at \(Self.sources.path)")
        var found: [String] = []
        for file in outside {
            let text = try String(contentsOf: Self.sources.appendingPathComponent(file), encoding: .utf8)
            found += Self.literals(in: text, names: names).map { "Sources/\(file):\($0)" }
        }
        #expect(found.isEmpty, "guest names spelt outside the guests: \(found.joined(separator: "\n"))")
    }

    @Test("the scan finds a literal where there is one, and not a longer word")
    func scanCanFail() {
        let text = "let a = 1\nif name == \"tdx\" {}\nlet b = \"tdx_guest\"\n"
        #expect(Self.literals(in: text, names: ["tdx"]) == ["2: if name == \"tdx\" {}"])
    }
}
