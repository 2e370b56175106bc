import Foundation
import Glibc
import Testing
import TestSupport

/// Every input tsmfs reads has a size limit and a clear error past it (issue 11, class 10).
@Suite("Input limits", .needsMount)
struct InputLimitsTests {
    /// (arguments, the file named, what the message says): verify's inputs and boot logs name
    /// their own limits (issue 24).
    static let endless: [(String, String, String)] = [
        ("verify /dev/zero --guest tdx", "/dev/zero", "the evidence is larger than its limit of 32768 bytes"),
        ("providers --config /dev/zero", "/dev/zero", "File too large"),
        (
            "mount --sysroot DIR/r --boot-log /dev/zero", "/dev/zero",
            "a boot log is larger than its limit of 1048576 bytes"
        ),
        (
            "verify /etc/hostname --guest sev-snp --auxblob /dev/urandom", "/dev/urandom",
            "the auxblob is larger than its limit of 65536 bytes"
        ),
    ]

    @Test(
        "an endless input is refused with the file's name and the limit, in bounded memory", arguments: endless.indices)
    func endlessInput(index: Int) throws {
        let (arguments, file, message) = Self.endless[index]
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // 200 MB of address space: reading to the end would fail loudly instead of passing.
        let r = try shell(
            """
            ulimit -v 2000000; timeout 60 '\(tsmfsBinary())' \
            \(arguments.replacingOccurrences(of: "DIR", with: directory)) 2>&1
            """
        )
        #expect(r.status != 0 && r.status != 124, "\(arguments): status \(r.status)")
        #expect(r.text.contains(file) && r.text.contains(message), "\(arguments): \(r.text)")
        #expect(!mountTableLists(directory + "/r"))
    }

    @Test("a provider or register name longer than the limit is refused, naming the rule")
    func longNames() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let long = String(repeating: "n", count: 300)
        let config =
            """
            {\"providers\": [{\"name\": \"p\", \"registers\": [{\"name\": \"\(long)\", \"hash\": \"sha256\", \
            \"flags\": \"R\"}]}]}
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: directory + "/c.json"))
        let r = try shell("'\(tsmfsBinary())' providers --config '\(directory)/c.json' 2>&1")
        #expect(r.status != 0)
        #expect(r.text.contains("a name has 300 bytes; at most 248"), "\(r.text)")
    }
}
