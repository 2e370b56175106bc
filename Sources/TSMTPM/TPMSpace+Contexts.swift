import Glibc
import TSMBytes

/// tpm2-space.c's steps around one command, on a working copy of the space's state.
extension TPMSpace {
    static let transient: UInt32 = 0x8000_0000
    static let hmacSession: UInt32 = 0x0200_0000
    static let policySession: UInt32 = 0x0300_0000

    /// tpm2_load_space: every saved object gets a physical handle again; sessions are reloaded
    /// (one flushed or replayed outside the space is forgotten; one back under another handle is
    /// EFAULT). An object that does not load fails this and every later command of the space (its
    /// saved context stays: after a TPM reset, EINVAL until the file is closed); a session that
    /// does not load fails this command and the space forgets its sessions.
    func load(_ work: inout SpaceState) throws(VTPMError) {
        for slot in 0..<3 where work.objects[slot] != 0 {
            guard let handle = try contextLoad(work.contexts[slot]) else {
                throw VTPMError.space(reason: "object slot \(slot) was flushed outside the space", errno: ENOENT)
            }
            work.objects[slot] = handle
        }
        for slot in 0..<3 where work.sessions[slot] != 0 {
            let loaded: UInt32?
            do throws(VTPMError) {
                loaded = try contextLoad(work.sessionContexts[slot])
            } catch {
                work.forgetSessions = true
                throw error
            }
            guard let handle = loaded else {
                work.sessions[slot] = 0
                work.sessionContexts[slot] = []
                continue
            }
            guard handle == work.sessions[slot] else {
                throw VTPMError.space(reason: "session restored to another handle", errno: EFAULT)
            }
        }
    }

    /// tpm2_map_command: each transient handle of the command's handle area is a virtual one of
    /// this space (0x80ffffff - slot), replaced by its physical handle; any other is EINVAL.
    func map(_ command: [UInt8], handles: Int, work: SpaceState) throws(VTPMError) -> [UInt8] {
        var command = command
        for index in 0..<handles {
            let offset = 10 + 4 * index
            let handle = UInt32(bigEndianBytes: command[offset..<offset + 4])
            guard handle & 0xFF00_0000 == Self.transient else { continue }
            let slot = Int(0xFF_FFFF - (handle & 0xFF_FFFF))
            guard slot < 3, work.objects[slot] != 0 else {
                throw VTPMError.space(
                    reason: "handle 0x\(Hex.digits(of: handle)) is not a transient object of this space", errno: EINVAL)
            }
            command.replaceSubrange(offset..<offset + 4, with: work.objects[slot].bigEndianBytes)
        }
        return command
    }

    /// tpm2_map_response_header: a new transient object takes the first free slot and is
    /// answered under its virtual handle; a new session takes a session slot. No free slot:
    /// the new handle is flushed and the command fails with ENOMEM.
    func commitHeader(_ response: inout [UInt8], attributes: UInt32, work: inout SpaceState) throws(VTPMError) {
        guard response.count >= 14, response[6..<10].allSatisfy({ $0 == 0 }), attributes & (1 << 28) != 0 else {
            return
        }
        let handle = UInt32(bigEndianBytes: response[10..<14])
        switch handle & 0xFF00_0000 {
        case Self.transient:
            guard let slot = work.objects.firstIndex(of: 0) else {
                _ = try? flushContext(handle)
                throw VTPMError.space(reason: "out of object slots (3) for 0x\(Hex.digits(of: handle))", errno: ENOMEM)
            }
            work.objects[slot] = handle
            response.replaceSubrange(10..<14, with: (0x80FF_FFFF - UInt32(slot)).bigEndianBytes)
        case Self.hmacSession, Self.policySession:
            guard let slot = work.sessions.firstIndex(of: 0) else {
                _ = try? flushContext(handle)
                throw VTPMError.space(reason: "out of session slots (3) for 0x\(Hex.digits(of: handle))", errno: ENOMEM)
            }
            work.sessions[slot] = handle
        default:
            break
        }
    }

    /// tpm2_map_response_body: a TPM_CAP_HANDLES answer lists this space's transient objects
    /// under their virtual handles and no other transient object.
    func commitBody(_ response: inout [UInt8], code: UInt32, work: SpaceState) throws(VTPMError) {
        guard code == TPM2Commands.Code.getCapability.rawValue, response[6..<10].allSatisfy({ $0 == 0 }) else { return }
        guard response.count >= 19 else {
            throw VTPMError.space(reason: "GetCapability response of \(response.count) bytes", errno: EFAULT)
        }
        guard UInt32(bigEndianBytes: response[11..<15]) == 1 else { return }
        let count = Int(UInt32(bigEndianBytes: response[15..<19]))
        guard response.count == 19 + 4 * count else {
            throw VTPMError.space(reason: "TPM_CAP_HANDLES response size disagrees with its count", errno: EFAULT)
        }
        var kept: [UInt32] = []
        for index in 0..<count {
            let handle = UInt32(bigEndianBytes: response[19 + 4 * index..<23 + 4 * index])
            if handle & 0xFF00_0000 != Self.transient {
                kept.append(handle)
            } else if let slot = work.objects.firstIndex(of: handle) {
                kept.append(0x80FF_FFFF - UInt32(slot))
            }
        }
        response = Array(response[0..<15]) + UInt32(kept.count).bigEndianBytes + kept.flatMap(\.bigEndianBytes)
        response.replaceSubrange(2..<6, with: UInt32(response.count).bigEndianBytes)
    }

    /// tpm2_save_space: each loaded object saved and flushed (one the command flushed is
    /// forgotten), each session saved.
    func save(_ work: inout SpaceState) throws(VTPMError) {
        var used = 0
        for slot in 0..<3 where work.objects[slot] != 0 && work.objects[slot] != SpaceState.saved {
            guard let context = try contextSave(work.objects[slot]) else {
                work.objects[slot] = 0
                work.contexts[slot] = []
                continue
            }
            used += context.count
            guard used <= SpaceState.contextLimit else {
                throw VTPMError.space(
                    reason: "out of backing storage (\(SpaceState.contextLimit) bytes)", errno: ENOMEM)
            }
            _ = try flushContext(work.objects[slot])
            work.contexts[slot] = context
            work.objects[slot] = SpaceState.saved
        }
        used = 0
        for slot in 0..<3 where work.sessions[slot] != 0 {
            guard let context = try contextSave(work.sessions[slot]) else {
                work.sessions[slot] = 0
                work.sessionContexts[slot] = []
                continue
            }
            used += context.count
            guard used <= SpaceState.contextLimit else {
                throw VTPMError.space(
                    reason: "out of backing storage (\(SpaceState.contextLimit) bytes)", errno: ENOMEM)
            }
            work.sessionContexts[slot] = context
        }
    }

    /// tpm2_flush_space: after a failure, the objects loaded for the command are flushed (their
    /// saved contexts stay), and the space's sessions too.
    func flush(_ work: SpaceState) {
        for handle in work.objects where handle != 0 && handle != SpaceState.saved { _ = try? flushContext(handle) }
        for handle in work.sessions where handle != 0 { _ = try? flushContext(handle) }
    }

    /// TPM2_ContextLoad of a TPMS_CONTEXT: the loaded handle, or nil for TPM_RC_HANDLE or
    /// TPM_RC_REFERENCE_H0 (a context replayed or flushed outside the space); TPM_RC_INTEGRITY
    /// (a context saved before a TPM reset) EINVAL, as tpm2_load_context answers (older kernels: EFAULT);
    /// other failures EFAULT.
    func contextLoad(_ context: [UInt8]) throws(VTPMError) -> UInt32? {
        let response = try TPMResponse(tpm.send(TPM2Commands.command(.contextLoad, parameters: context)))
        if response.code.base == TPMResponseCode.handle.rawValue || response.code == .referenceH0 { return nil }
        if response.code.base == TPMResponseCode.integrity.rawValue {
            throw VTPMError.space(
                reason: "a saved context failed its integrity check (\(response.code))", errno: EINVAL)
        }
        guard response.code == .success, response.body.count >= 4 else {
            throw VTPMError.space(reason: "TPM2_ContextLoad failed: \(response.code)", errno: EFAULT)
        }
        return UInt32(bigEndianBytes: response.body[0..<4])
    }

    /// TPM2_ContextSave: the TPMS_CONTEXT, or nil for TPM_RC_REFERENCE_H0 (flushed); else EFAULT.
    func contextSave(_ handle: UInt32) throws(VTPMError) -> [UInt8]? {
        let response = try TPMResponse(tpm.send(TPM2Commands.command(.contextSave, handles: [handle])))
        if response.code == .referenceH0 { return nil }
        guard response.code == .success else {
            throw VTPMError.space(reason: "TPM2_ContextSave failed: \(response.code)", errno: EFAULT)
        }
        return response.body
    }

    /// TPM2_FlushContext(handle); the response code.
    @discardableResult
    func flushContext(_ handle: UInt32) throws(VTPMError) -> TPMResponseCode {
        try TPMResponse(tpm.send(TPM2Commands.command(.flushContext, parameters: handle.bigEndianBytes))).code
    }
}
