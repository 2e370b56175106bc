import Crypto
import Glibc
import Synchronization
import TSMBytes
import TSMEvidence
import TSMTPM
import TestSupport
import Testing

/// TPM2_ReadClock's resetCount (TPMS_TIME_INFO: time, then clock, resetCount, restartCount, safe).
func resetCount(_ tpm: VirtualTPM) throws -> UInt32 {
    let response = try TPMResponse(tpm.transmit([0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x81]))
    try #require(response.code == .success)
    return UInt32(bigEndianBytes: response.body[16..<20])
}

/// `VirtualTPM.reboot(boot:)` against swtpm: what a confidential VM's reboot does to its vTPM.
@Suite("VirtualTPM reboot")
struct VirtualTPMRebootTests {
    /// The boot's one measurement: PCR 0 (SHA-256) extended with this.
    static let bootDigest = [UInt8](repeating: 0x5A, count: 32)

    static func measureBoot(_ held: HeldTPM) throws(VTPMError) {
        try held.extendPCR(index: 0, bank: .sha256, digest: bootDigest)
    }

    @Test("PCRs back to reset and the boot measured again; resetCount + 1; EK and its certificate kept")
    func pcrs() throws {
        try withVTPM { (tpm: VirtualTPM, _: String) throws -> Void in
            try tpm.holding(Self.measureBoot)
            let boot = try tpm.readPCR(bank: .sha256, index: 0)
            #expect(boot == Array(SHA256.hash(data: [UInt8](repeating: 0, count: 32) + Self.bootDigest)))
            try tpm.extendPCR(index: 0, bank: .sha256, digest: [UInt8](repeating: 1, count: 32))
            try tpm.extendPCR(index: 16, bank: .sha256, digest: [UInt8](repeating: 2, count: 32))
            try tpm.extendPCR(index: 16, bank: .sha384, digest: [UInt8](repeating: 3, count: 48))
            let ek = try ekPublic(tpm)
            let certificate = try nvRead(tpm, index: 0x01C0_0002, size: try nvSize(tpm, index: 0x01C0_0002))
            let resets = try resetCount(tpm)
            try tpm.reboot(boot: Self.measureBoot)
            #expect(try tpm.readPCR(bank: .sha256, index: 0) == boot)
            #expect(try tpm.readPCR(bank: .sha256, index: 16) == [UInt8](repeating: 0, count: 32))
            #expect(try tpm.readPCR(bank: .sha384, index: 16) == [UInt8](repeating: 0, count: 48))
            #expect(try resetCount(tpm) == resets + 1, "a TPM Reset (TPM2_Startup(CLEAR) after TPM_Init)")
            #expect(try ekPublic(tpm) == ek)
            #expect(try nvRead(tpm, index: 0x01C0_0002, size: certificate.count) == certificate)
            // A second reboot is the same.
            try tpm.reboot(boot: Self.measureBoot)
            #expect(try tpm.readPCR(bank: .sha256, index: 0) == boot)
            #expect(try resetCount(tpm) == resets + 2)
        }
    }

    @Test("Transient objects and sessions are flushed; a clear-on-reset NV write lock is lifted, the data kept")
    func volatile() throws {
        try withVTPM { (tpm: VirtualTPM, _: String) throws -> Void in
            #expect(try TPMResponse(tpm.transmit(createPrimary)).code == .success)
            #expect(try TPMResponse(tpm.transmit(startSession(type: 0))).code == .success)
            #expect(try handles(tpm.transmit, from: 0x8000_0000).count == 1)
            // An owner index with TPMA_NV_WRITE_STCLEAR, written and write-locked.
            let index: UInt32 = 0x0150_0020
            var define = ByteWriter()
            define.u16BigEndian(0)
            define.sized16(
                index.bigEndianBytes + UInt16(0x000B).bigEndianBytes + UInt32(0x0006_0002 | 1 << 14).bigEndianBytes
                    + [0, 0] + UInt16(4).bigEndianBytes)
            let owner = TPM2Commands.ownerHierarchy
            let defined = try tpm.transmit(
                TPM2Commands.command(.nvDefineSpace, handles: [owner], passwords: 1, parameters: define.bytes))
            #expect(try TPMResponse(defined).code == .success)
            let write = TPM2Commands.command(
                .nvWrite, handles: [owner, index], passwords: 1, parameters: [0, 4, 1, 2, 3, 4, 0, 0])
            #expect(try TPMResponse(tpm.transmit(write)).code == .success)
            let lock = TPM2Commands.command(.nvWriteLock, handles: [owner, index], passwords: 1)
            #expect(try TPMResponse(tpm.transmit(lock)).code == .success)
            #expect(try TPMResponse(tpm.transmit(write)).code.base == 0x148, "TPM_RC_NV_LOCKED")
            try tpm.reboot(boot: Self.measureBoot)
            #expect(try handles(tpm.transmit, from: 0x8000_0000) == [])
            #expect(try handles(tpm.transmit, from: 0x0200_0000) == [])
            #expect(try handles(tpm.transmit, from: 0x0300_0000) == [])
            #expect(try nvRead(tpm, index: index, size: 4) == [1, 2, 3, 4])
            #expect(try TPMResponse(tpm.transmit(write)).code == .success, "WRITE_STCLEAR's lock cleared")
        }
    }

    @Test("A space open across the reboot: its object's context fails every command (EINVAL); sessions once")
    func spaces() throws {
        try withVTPM { (tpm: VirtualTPM, _: String) throws -> Void in
            let objects = TPMSpace(tpm: tpm)
            let sessions = TPMSpace(tpm: tpm)
            #expect(try TPMResponse(objects.transmit(createPrimary)).code == .success)
            #expect(try TPMResponse(sessions.transmit(startSession(type: 1))).code == .success)
            try tpm.reboot(boot: Self.measureBoot)
            let getRandom = TPM2Commands.command(.getRandom, parameters: [0, 8])
            for _ in 0..<2 {
                do throws(VTPMError) {
                    _ = try objects.transmit(getRandom)
                    Issue.record("a space's object saved before the reboot loaded")
                } catch {
                    #expect(error.errno == EINVAL && "\(error)".contains("TPM_RC_INTEGRITY"), "\(error)")
                }
            }
            do throws(VTPMError) {
                _ = try sessions.transmit(getRandom)
                Issue.record("a space's session saved before the reboot loaded")
            } catch {
                #expect(error.errno == EINVAL, "\(error)")
            }
            #expect(try TPMResponse(sessions.transmit(getRandom)).code == .success, "its sessions forgotten")
            let fresh = TPMSpace(tpm: tpm)
            #expect(try TPMResponse(fresh.transmit(createPrimary)).code == .success)
            objects.close()
            #expect(try TPMResponse(fresh.transmit(getRandom)).code == .success)
        }
    }

    @Test("Azure: the HCL report is made anew at the reboot, with the user data 0x01400002 still holds")
    func azure() throws {
        let calls = Mutex<[[UInt8]]>([])
        let authority = try SNPAuthority(seed: "tsmfs")
        let personality = AzurePersonality { reportData in
            calls.withLock { $0.append(reportData) }
            return try authority.sign(
                SNPReport(
                    reportData: reportData, vmpl: 0, measurement: [UInt8](repeating: 0, count: 48),
                    hostData: [UInt8](repeating: 0, count: 32), platform: authority.snpPlatform)
            ).report
        }
        try withPersonality(personality) { tpm in
            let userData = [UInt8](repeating: 0xC3, count: 64)
            let index = AzureHCLReport.userDataNVIndex
            let write = TPM2Commands.command(
                .nvWrite, handles: [index, index], passwords: 1,
                parameters: UInt16(64).bigEndianBytes + userData + [0, 0])
            #expect(try TPMResponse(tpm.transmit(write)).code == .success)
            let before = try readReport(tpm)
            let made = calls.withLock { $0.count }
            try tpm.reboot(boot: Self.measureBoot)
            #expect(calls.withLock { $0.count } == made + 1, "one report made at the reboot")
            #expect(calls.withLock { $0.last } == calls.withLock { $0[made - 1] }, "from the same claims")
            let after = try readReport(tpm)
            #expect(after.count == before.count)
            let claims = try AzureHCLReport(parsing: after).claims
            #expect(String(decoding: claims, as: UTF8.self).contains(Hex.encode(userData).uppercased()))
        }
    }
}
