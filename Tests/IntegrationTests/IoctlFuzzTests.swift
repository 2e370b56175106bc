import Foundation
import Testing
import TestSupport

/// The guests' device files under seeded ioctl fuzz (ioctl_fuzz_client.py, inside `tsmfs exec`):
/// requests the drivers have and mutations of them, with random structs whose pointers are real
/// buffers, 0 or wild addresses. Every call ends in 0 or a driver's errno, the daemon outlives
/// them all and the device answers a good request afterwards. Seeded: a failure repeats.
@Suite("ioctl fuzz of /dev/sev-guest and /dev/tdx_guest", .serialized, .needsMount)
struct IoctlFuzzTests {
    static let client = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("ioctl_fuzz_client.py").path
    /// What the drivers answer: success, and the errnos of sev-guest.c, tdx-guest.c and Intel's
    /// out-of-tree driver (FUSE's own ENOTTY for a request no device has among them).
    static let driverErrnos: Set<String> = ["0", "ENOTTY", "EINVAL", "EFAULT", "EIO", "EPERM", "E2BIG", "ENOMEM"]

    struct Outcome: Decodable {
        let calls: Int
        let errnos: [String: Int]
        let alive: Bool
    }

    func fuzz(_ options: String, device: String, seed: Int, count: Int = 400) throws {
        let r = try shell(
            "'\(tsmfsBinary())' exec \(options) -- python3 '\(Self.client)' \(seed) \(count) \(device)")
        try #require(r.status == 0, "\(options) seed \(seed): status \(r.status): \(r.text) \(r.stderr)")
        let outcome = try JSONDecoder().decode(Outcome.self, from: Data(r.text.utf8))
        #expect(outcome.calls == count)
        #expect(outcome.alive, "\(options) seed \(seed): the device no longer answers a good request")
        let unexpected = Set(outcome.errnos.keys).subtracting(Self.driverErrnos)
        #expect(unexpected.isEmpty, "\(options) seed \(seed): errnos no driver returns: \(outcome.errnos)")
        // Both successes and refusals happen, or the fuzz exercises nothing.
        #expect(outcome.errnos["0", default: 0] > 0 && outcome.errnos.count > 1, "\(outcome.errnos)")
    }

    @Test("SEV-SNP: SNP_GET_REPORT, SNP_GET_DERIVED_KEY, SNP_GET_EXT_REPORT and their mutations", arguments: [1, 2])
    func sevGuest(seed: Int) throws {
        try fuzz("--guest sev-snp", device: "/dev/sev-guest", seed: seed)
    }

    @Test("TDX: TDX_CMD_GET_REPORT0, and Intel's GET_QUOTE and EXTEND_RTMR on 6.6", arguments: [3, 4])
    func tdxGuest(seed: Int) throws {
        try fuzz("--guest tdx --kernel 6.6 --tdx-driver intel", device: "/dev/tdx_guest", seed: seed)
        try fuzz("--guest tdx", device: "/dev/tdx_guest", seed: seed + 10, count: 200)
    }
}
