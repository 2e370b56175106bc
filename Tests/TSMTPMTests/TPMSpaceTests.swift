import Dispatch
import Glibc
import Synchronization
import TSMBytes
import TSMTPM
import TestSupport
import Testing

/// A storage ECC P-256 primary key in the owner hierarchy (TPM2_CreatePrimary).
let createPrimary: [UInt8] = {
    let template = bytes("0023000b00030072" + "0000" + "0006008000430010" + "00030010" + "00000000")
    let parameters =
        UInt16(4).bigEndianBytes + [0, 0, 0, 0] + UInt16(template.count).bigEndianBytes + template
        + UInt16(0).bigEndianBytes + UInt32(0).bigEndianBytes
    return TPM2Commands.command(.createPrimary, handles: [0x4000_0001], passwords: 1, parameters: parameters)
}()

/// TPM2_StartAuthSession of `type` (0 HMAC, 1 policy), unbound, unsalted, SHA-256.
func startSession(type: UInt8) -> [UInt8] {
    let parameters =
        UInt16(16).bigEndianBytes + [UInt8](repeating: 7, count: 16) + UInt16(0).bigEndianBytes + [type]
        + UInt16(0x0010).bigEndianBytes + UInt16(0x000B).bigEndianBytes
    return TPM2Commands.command(.startAuthSession, handles: [0x4000_0007, 0x4000_0007], parameters: parameters)
}

/// TPM2_GetCapability(TPM_CAP_HANDLES) from `first`: the handles listed.
func handles(_ send: ([UInt8]) throws -> [UInt8], from first: UInt32) throws -> [UInt32] {
    let response = try send(TPM2Commands.getCapability(1, property: first, count: 64))
    try #require(try TPMResponse(response).code == .success)
    let count = Int(response[15..<19].reduce(0) { $0 << 8 | UInt32($1) })
    return (0..<count).map { index in response[19 + 4 * index..<23 + 4 * index].reduce(0) { $0 << 8 | UInt32($1) } }
}

/// The response's first handle.
func firstHandle(_ response: [UInt8]) -> UInt32 { response[10..<14].reduce(0) { $0 << 8 | UInt32($1) } }

func readPublic(_ handle: UInt32) -> [UInt8] { TPM2Commands.command(.readPublic, handles: [handle]) }

@Suite("TPMSpace, the /dev/tpmrm0 resource manager")
struct TPMSpaceTests {
    @Test("Two spaces do not see each other's objects; a closed space's objects and sessions are gone")
    func isolation() throws {
        try withVTPM { (tpm: VirtualTPM, _: String) throws -> Void in
            let first = TPMSpace(tpm: tpm)
            let second = TPMSpace(tpm: tpm)
            let created = try first.transmit(createPrimary)
            #expect(try TPMResponse(created).code == .success)
            #expect(firstHandle(created) == 0x80FF_FFFF)
            #expect(try TPMResponse(first.transmit(readPublic(0x80FF_FFFF))).code == .success)
            #expect(throws: VTPMError.self) { try second.transmit(readPublic(0x80FF_FFFF)) }
            #expect(try handles(first.transmit, from: 0x8000_0000) == [0x80FF_FFFF])
            #expect(try handles(second.transmit, from: 0x8000_0000) == [])
            // Between commands nothing of a space is loaded in the TPM.
            #expect(try handles(tpm.transmit, from: 0x8000_0000) == [])
            let session = try first.transmit(startSession(type: 1))
            #expect(try TPMResponse(session).code == .success)
            let saved = try handles(tpm.transmit, from: 0x0300_0000) + handles(tpm.transmit, from: 0x0200_0000)
            // The TPM lists a saved session by its index, under either session type.
            #expect(saved.map { $0 & 0xFF_FFFF } == [firstHandle(session) & 0xFF_FFFF])
            first.close()
            #expect(throws: VTPMError.space(reason: "the space is closed", errno: EBADF)) {
                try first.transmit(readPublic(0x80FF_FFFF))
            }
            #expect(try handles(tpm.transmit, from: 0x0300_0000) + handles(tpm.transmit, from: 0x0200_0000) == [])
            #expect(try handles(TPMSpace(tpm: tpm).transmit, from: 0x8000_0000) == [])
            second.close()
        }
    }

    @Test("A policy session keeps its state across the commands of one space, and only there")
    func sessionSurvives() throws {
        try withVTPM { (tpm: VirtualTPM, _: String) throws -> Void in
            let space = TPMSpace(tpm: tpm)
            defer { space.close() }
            let other = TPMSpace(tpm: tpm)
            defer { other.close() }
            let session = firstHandle(try space.transmit(startSession(type: 1)))
            let getDigest = TPM2Commands.Code.policyGetDigest
            let zeros = try TPMResponse(space.transmit(TPM2Commands.command(getDigest, handles: [session])))
            #expect(zeros.body == [0, 32] + [UInt8](repeating: 0, count: 32))
            let authValue = try space.transmit(TPM2Commands.command(.policyAuthValue, handles: [session]))
            #expect(try TPMResponse(authValue).code == .success)
            let changed = try TPMResponse(space.transmit(TPM2Commands.command(getDigest, handles: [session])))
            #expect(changed.code == .success)
            #expect(changed.body != zeros.body)
            // The other space has not loaded it: the TPM refuses the handle.
            let elsewhere = try TPMResponse(other.transmit(TPM2Commands.command(getDigest, handles: [session])))
            #expect(elsewhere.code != .success)
        }
    }

    @Test("Virtual handles 0x80ffffff downward; FlushContext of a virtual handle frees its slot")
    func slots() throws {
        try withVTPM { (tpm: VirtualTPM, _: String) throws -> Void in
            let space = TPMSpace(tpm: tpm)
            defer { space.close() }
            let created = try (0..<3).map { _ in firstHandle(try space.transmit(createPrimary)) }
            #expect(created == [0x80FF_FFFF, 0x80FF_FFFE, 0x80FF_FFFD])
            // swtpm has 3 object slots: with the space's 3 loaded the TPM itself refuses a fourth.
            #expect(try TPMResponse(space.transmit(createPrimary)).code == .objectMemory)
            #expect(try handles(tpm.transmit, from: 0x8000_0000) == [])
            let flush = TPM2Commands.command(.flushContext, parameters: UInt32(0x80FF_FFFE).bigEndianBytes)
            #expect(try TPMResponse(space.transmit(flush)).code == .success)
            #expect(try handles(space.transmit, from: 0x8000_0000) == [0x80FF_FFFF, 0x80FF_FFFD])
            #expect(firstHandle(try space.transmit(createPrimary)) == 0x80FF_FFFE)
        }
    }

    @Test("Spaces used from several threads at once each see only their own object")
    func concurrent() throws {
        try withVTPM { (tpm: VirtualTPM, _: String) throws -> Void in
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { worker in
                let space = TPMSpace(tpm: tpm)
                defer { space.close() }
                do {
                    let created = try space.transmit(createPrimary)
                    let name = try space.transmit(readPublic(firstHandle(created)))
                    for _ in 0..<10 {
                        guard try space.transmit(readPublic(0x80FF_FFFF)) == name,
                            try handles(space.transmit, from: 0x8000_0000) == [0x80FF_FFFF]
                        else { throw VTPMError.space(reason: "worker \(worker) saw another object", errno: 0) }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 } == [])
            #expect(try handles(tpm.transmit, from: 0x8000_0000) == [])
        }
    }

    @Test("A command the TPM lacks is answered TPM_RC_COMMAND_CODE from the resource manager's layer")
    func unknownCommand() throws {
        try withVTPM { (tpm: VirtualTPM, _: String) throws -> Void in
            let space = TPMSpace(tpm: tpm)
            defer { space.close() }
            #expect(try space.transmit(bytes("8001" + "0000000a" + "00000fff")) == bytes("80010000000a000b0143"))
            #expect(throws: VTPMError.space(reason: "12-byte command shorter than its 1 handles", errno: EINVAL)) {
                try space.transmit(bytes("8001" + "0000000c" + "00000173" + "8000"))
            }
        }
    }
}
