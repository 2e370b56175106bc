import Foundation
import Glibc
import Testing
import TestSupport

/// Several processes extending one register at once (ABI.md 2.6: writes are serialised by the
/// provider lock, so no extend is lost).
@Suite("Concurrent extends", .needsMount)
struct ConcurrencyTests {
    @Test("4 processes x 250 extends of the same data: the final value is the 1000-fold chain")
    func fourWriters() throws {
        let mount = try MountedTSMFS()
        let data = [UInt8](repeating: 0xA5, count: 48)
        let directory = mount.directory
        try Data(data).write(to: URL(fileURLWithPath: directory + "/data"))
        let target = mount.path("tdx/rtmr3/digest")
        // Each writer is its own process; each extend is open + one 48-byte write + close.
        let script =
            (0..<4).map { _ in
                "( for i in $(seq 250); do head -c 48 '\(directory)/data' > '\(target)' || exit 1; done ) &"
            }.joined(separator: "\n") + "\nfail=0; for job in $(jobs -p); do wait $job || fail=1; done; exit $fail"
        let r = try shell(script)
        #expect(r.status == 0, "\(r.stderr)")
        var expected = [UInt8](repeating: 0, count: 48)
        for _ in 0..<1000 { expected = extendDigest("sha384", expected, data) }
        #expect(Sys.readFile(target).value == expected)
        // The live report follows: report0 carries the same RTMR3.
        let report = Sys.readFile(mount.path("tdx/report0")).value ?? []
        #expect(report.count == 1024 && Array(report[864..<912]) == expected)
        #expect(mount.stop() == 0)
    }

    @Test("threads of one process extending through separate descriptors")
    func threads() throws {
        let mount = try MountedTSMFS()
        let target = mount.path("cca/rem2/digest")
        let data = [UInt8](repeating: 0x3C, count: 32)
        let failures = Atomic(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<50 where Sys.writeFile(target, data).value != 32 {
                failures.add()
            }
        }
        #expect(failures.value == 0)
        var expected = [UInt8](repeating: 0, count: 32)
        for _ in 0..<400 { expected = extendDigest("sha256", expected, data) }
        #expect(Sys.readFile(target).value == expected)
        #expect(mount.stop() == 0)
    }
}

/// A counter shared by threads in a test.
final class Atomic: @unchecked Sendable {
    private var count: Int
    private let lock = NSLock()
    init(_ value: Int) { count = value }
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
