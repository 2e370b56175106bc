import Glibc
import TSMBytes
import TSMEvidence
import TSMTPM
import TestSupport
import Testing

/// What any process that can open `/dev/tpm0` or `/dev/tpmrm0` in a sysroot may write: valid
/// commands mutated (truncated, resized, bytes flipped, handles and session areas replaced), fed
/// through the paths the devices use (a `/dev/tpmrm0` space, `/dev/tpm0`'s `transmit`), with the
/// personality's hook in front. Every command must come back as a TPM response of its stated size
/// or as the errno a device answers (never a trap, never a dead or hung swtpm), and the TPM must
/// still answer afterwards. Seeded: a failure repeats with its seed; `TSMFS_FUZZ_SCALE=N`
/// multiplies the budget.
@Suite("malformed TPM commands through the device paths", .serialized)
struct TPMCommandFuzzTests {
    static let scale = Int(getenv("TSMFS_FUZZ_SCALE").map { String(cString: $0) } ?? "") ?? 1

    /// Commands a client sends, as templates to mutate: state-making ones (objects, sessions)
    /// among them, so that later mutations meet a space with something in it.
    static let templates: [[UInt8]] = [
        TPM2Commands.command(.getRandom, parameters: [0, 16]),
        createPrimary,
        startSession(type: 0),
        startSession(type: 1),
        readPublic(0x80FF_FFFF),
        TPM2Commands.command(.flushContext, parameters: UInt32(0x80FF_FFFF).bigEndianBytes),
        TPM2Commands.command(.contextSave, handles: [0x80FF_FFFF]),
        TPM2Commands.command(.contextLoad, parameters: [UInt8](repeating: 0, count: 8) + [0, 4, 1, 2, 3, 4]),
        TPM2Commands.getCapability(1, property: 0x8000_0000, count: 64),
        TPM2Commands.command(.pcrRead, parameters: bytes("00000001000b03ffffff")),
        TPM2Commands.command(
            .nvRead, handles: [TPM2Commands.ownerHierarchy, AzureHCLReport.nvIndex], passwords: 1,
            parameters: [0x04, 0x00, 0x00, 0x00]),
        TPM2Commands.command(.nvReadPublic, handles: [AzureHCLReport.nvIndex]),
        TPM2Commands.command(.policyGetDigest, handles: [0x0300_0000]),
        // The HCL report's NV_Read under HMAC and policy sessions, one and two of them, so the
        // mutations reach the Azure hook's session parsing.
        nvReadHCL(sessions: [0x0200_0000]), nvReadHCL(sessions: [0x0300_0000]),
        nvReadHCL(sessions: [0x0200_0000, 0x4000_0009]),
    ]

    /// TPM2_NV_Read of the HCL report (owner auth, 64 bytes at 0) under `sessions`: each with a
    /// 32-byte nonce, continueSession, and a 32-byte HMAC of no value in particular.
    static func nvReadHCL(sessions: [UInt32]) -> [UInt8] {
        var area = ByteWriter()
        for session in sessions {
            area.u32BigEndian(session)
            area.sized16([UInt8](repeating: 0x5A, count: 32))
            area.u8(1)
            area.sized16([UInt8](repeating: 0xA5, count: 32))
        }
        var body = ByteWriter()
        body.u32BigEndian(TPM2Commands.ownerHierarchy)
        body.u32BigEndian(AzureHCLReport.nvIndex)
        body.u32BigEndian(UInt32(area.bytes.count))
        body.append(area.bytes + [0, 64, 0, 0])
        var command = ByteWriter()
        command.u16BigEndian(TPM2Commands.tagSessions)
        command.u32BigEndian(UInt32(10 + body.bytes.count))
        command.u32BigEndian(TPM2Commands.Code.nvRead.rawValue)
        command.append(body.bytes)
        return command.bytes
    }

    /// Handles worth putting where a command's handles or session handles go.
    static let handles: [UInt32] = [
        0x80FF_FFFF, 0x80FF_FFFE, 0x8000_0000, 0x8000_0001, 0x0200_0000, 0x0300_0000, 0x0300_0001,
        0x4000_0001, 0x4000_0007, 0x4000_0009, 0x4000_000C, 0x8101_0001, 0x0140_0001, 0x01C0_0002, 0xFFFF_FFFF, 0,
    ]

    /// One mutation of `command`.
    static func mutate(_ command: [UInt8], _ random: inout SeededGenerator) -> [UInt8] {
        var bytes = command
        for _ in 0...random.below(3) {
            switch random.below(8) {
            case 0:  // truncated
                bytes = Array(bytes.prefix(random.below(bytes.count + 1)))
            case 1:  // the header's size says something else
                if bytes.count >= 6 {
                    let size = random.pick([0, 1, 9, 10, bytes.count - 1, bytes.count + 1, 4096, 4097, Int(UInt32.max)])
                    bytes.replaceSubrange(2..<6, with: UInt32(truncatingIfNeeded: size).bigEndianBytes)
                }
            case 2:  // bytes flipped
                for _ in 0...random.below(4) where !bytes.isEmpty {
                    bytes[random.below(bytes.count)] ^= UInt8(1 << random.below(8))
                }
            case 3:  // a handle or session handle replaced
                if bytes.count >= 14 {
                    let at = 10 + 4 * random.below(max(1, (bytes.count - 10) / 4 - 1))
                    bytes.replaceSubrange(at..<min(at + 4, bytes.count), with: random.pick(handles).bigEndianBytes)
                }
            case 4:  // junk appended, the size kept honest or not
                bytes += random.bytes(random.below(64))
                if random.chance(50), bytes.count >= 6 {
                    bytes.replaceSubrange(2..<6, with: UInt32(bytes.count).bigEndianBytes)
                }
            case 5:  // the tag swapped
                if bytes.count >= 2 {
                    bytes.replaceSubrange(
                        0..<2, with: random.pick([0x8001, 0x8002, 0x00C4, 0xFFFF]).bigEndianBytes as [UInt8])
                }
            case 6:  // the command code of another command
                if bytes.count >= 10, let other = random.pick(templates).dropFirst(6).prefix(4) as ArraySlice<UInt8>?,
                    other.count == 4
                {
                    bytes.replaceSubrange(6..<10, with: other)
                }
            default:  // an authorization size anywhere
                if bytes.count >= 18 {
                    let at = 10 + 4 * random.below(2)
                    bytes.replaceSubrange(
                        at..<at + 4, with: UInt32(random.pick([0, 1, 9, 0xFFFF, 0xFFFF_FFFF])).bigEndianBytes)
                }
            }
        }
        return bytes
    }

    /// Sends `count` commands, mutated or not, through `send`; every answer a response of its
    /// own stated size or a device errno. Returns how many of each were seen.
    static func run(
        _ send: ([UInt8]) throws(VTPMError) -> [UInt8], count: Int, seed: UInt64
    ) throws -> (responses: Int, refusals: Int) {
        var random = SeededGenerator(seed: seed)
        var seen = (responses: 0, refusals: 0)
        for step in 0..<count {
            let template = random.pick(templates)
            let command = random.chance(25) ? template : mutate(template, &random)
            do throws(VTPMError) {
                let response = try send(command)
                let parsed = try TPMResponse(response)
                #expect(response.count >= 10, "seed \(seed) step \(step): a short response")
                _ = parsed
                seen.responses += 1
            } catch {
                switch error {
                case .died, .timedOut, .stopped, .io:
                    Issue.record("seed \(seed) step \(step): the TPM is gone after \(Hex.encode(command)): \(error)")
                    return seen
                default:
                    #expect(
                        [EINVAL, E2BIG, ENODATA, ENOMEM, EFAULT, ENOENT, EIO].contains(error.errno),
                        "seed \(seed) step \(step): \(error)")
                    seen.refusals += 1
                }
            }
        }
        return seen
    }

    /// The TPM still answers a plain command, through a fresh space and directly.
    static func expectAlive(_ tpm: VirtualTPM) throws {
        let random = TPM2Commands.command(.getRandom, parameters: [0, 8])
        #expect(try TPMResponse(TPMSpace(tpm: tpm).transmit(random)).code == .success)
        #expect(try TPMResponse(tpm.transmit(random)).code == .success)
    }

    @Test("a plain vTPM: through two /dev/tpmrm0 spaces and /dev/tpm0's path", arguments: [UInt64(1), 2])
    func plain(seed: UInt64) throws {
        try withVTPM { (tpm: VirtualTPM, _: String) throws -> Void in
            let spaces = [TPMSpace(tpm: tpm), TPMSpace(tpm: tpm)]
            defer { for space in spaces { space.close() } }
            var total = (responses: 0, refusals: 0)
            for (index, space) in spaces.enumerated() {
                let seen = try Self.run(space.transmit, count: 150 * Self.scale, seed: seed * 10 + UInt64(index))
                total = (total.responses + seen.responses, total.refusals + seen.refusals)
            }
            let direct = try Self.run(tpm.transmit, count: 150 * Self.scale, seed: seed * 10 + 9)
            total = (total.responses + direct.responses, total.refusals + direct.refusals)
            // Both kinds of answer happen, or the mutations exercise nothing.
            #expect(total.responses > 0 && total.refusals > 0, "\(total)")
            try Self.expectAlive(tpm)
        }
    }

    @Test(
        "a personality's hook parses every command first (Azure's HCL report NV_Read and sessions, GCP's)",
        arguments: ["azure", "gcp"])
    func personality(name: String) throws {
        let personality: any VTPMPersonality = name == "azure" ? try azurePersonality() : GCPPersonality()
        try withPersonality(personality) { tpm in
            let space = TPMSpace(tpm: tpm)
            defer { space.close() }
            let seen = try Self.run(space.transmit, count: 200 * Self.scale, seed: 77)
            let direct = try Self.run(tpm.transmit, count: 100 * Self.scale, seed: 78)
            #expect(seen.responses + direct.responses > 0 && seen.refusals + direct.refusals > 0)
            try Self.expectAlive(tpm)
        }
    }
}
