import Foundation
import Testing
import TestSupport

/// The systemd units pass `systemd-analyze verify`, with ExecStart pointed at the built binary.
@Suite("systemd units")
struct ServiceUnitTests {
    static let units = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("systemd")

    @Test(
        "tsmfs.service and an instance of tsmfs@.service verify",
        arguments: [
            ("tsmfs.service", "tsmfs.service"), ("tsmfs@.service", "tsmfs@run-tsm.service"),
        ])
    func verify(unit: String, instance: String) throws {
        let analyze = try shell("command -v systemd-analyze")
        try #require(analyze.status == 0, "systemd-analyze is missing (Scripts/test installs systemd)")
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = try String(contentsOf: Self.units.appendingPathComponent(unit), encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/tsmfs", with: tsmfsBinary())
        #expect(text.contains("Type=notify"))
        #expect(!text.split(separator: "\n").contains { $0.hasPrefix("PrivateTmp=") || $0.hasPrefix("ProtectSystem=") })
        try text.write(toFile: directory + "/" + instance, atomically: true, encoding: .utf8)
        let r = try shell("systemd-analyze verify '\(directory)/\(instance)' 2>&1")
        #expect(r.status == 0, "\(r.text)")
        #expect(!r.text.contains("Unknown"), "\(r.text)")
    }
}
