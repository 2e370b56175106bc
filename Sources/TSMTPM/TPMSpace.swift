import Glibc
import Synchronization
import TSMBytes

/// The resource manager of one open `/dev/tpmrm0` file, as drivers/char/tpm/tpm2-space.c: the
/// file's transient objects live as saved contexts between its commands and are seen under
/// virtual handles (0x80ffffff, 0x80fffffe, 0x80fffffd: 3 slots), its sessions (3 slots) are
/// saved and reloaded under their own handles, and another file never sees them. Around each
/// command, with the TPM to itself: ContextLoad of every saved context, the command's handles
/// translated, the command, the response's new handle virtualised (and TPM_CAP_HANDLES answers
/// filtered), then ContextSave and FlushContext of each object and ContextSave of each session.
public final class TPMSpace: Sendable {
    let tpm: VirtualTPM
    let state = Mutex(SpaceState())

    /// A space on `tpm` (tpm2_init_space).
    public init(tpm: VirtualTPM) {
        self.tpm = tpm
    }

    /// Sends one command through the space (tpm_dev_transmit with a space). A command code the
    /// TPM does not have is answered TPM_RC_COMMAND_CODE | TSS2_RESMGR_TPM_RC_LAYER (0xB0143)
    /// without reaching it, as the kernel synthesises; the other refusals are
    /// ``VTPMError/space(reason:errno:)`` and ``VTPMError/commandRejected(reason:errno:)``.
    public func transmit(_ command: [UInt8]) throws(VTPMError) -> [UInt8] {
        let count = try VirtualTPM.checkedSize(command)
        let command = Array(command[0..<count])
        return try tpm.exclusive { () throws(VTPMError) -> [UInt8] in
            try state.withLock { (space) throws(VTPMError) -> [UInt8] in
                guard !space.closed else { throw VTPMError.space(reason: "the space is closed", errno: EBADF) }
                let table = try commandAttributes()
                let code = UInt32(bigEndianBytes: command[6..<10])
                guard let attributes = Self.find(code, in: table) else {
                    return [0x80, 0x01, 0, 0, 0, 10, 0x00, 0x0B, 0x01, 0x43]
                }
                let handles = Int((attributes >> 25) & 0x7)
                guard command.count >= 10 + 4 * handles else {
                    throw VTPMError.space(
                        reason: "\(command.count)-byte command shorter than its \(handles) handles", errno: EINVAL)
                }
                var work = space
                do throws(VTPMError) {
                    try load(&work)
                    let mapped = try map(command, handles: handles, work: work)
                    var response = try tpm.send(mapped)
                    try commitHeader(&response, attributes: attributes, work: &work)
                    try commitBody(&response, code: code, work: work)
                    try save(&work)
                    space = work
                    return response
                } catch {
                    flush(work)
                    // tpm2_load_space: a session context that fails to load (not one flushed
                    // outside) makes tpm2_flush_space forget every session of the space.
                    if work.forgetSessions {
                        space.sessions = [0, 0, 0]
                        space.sessionContexts = [[], [], []]
                    }
                    throw error
                }
            }
        }
    }

    /// Closes the space (tpm2_del_space): its sessions are flushed from the TPM, its objects'
    /// saved contexts dropped. Later commands throw EBADF. Idempotent.
    public func close() {
        _ = try? tpm.exclusive { () throws(VTPMError) in
            state.withLock { space in
                guard !space.closed else { return }
                for handle in space.sessions where handle != 0 { _ = try? flushContext(handle) }
                space = SpaceState()
                space.closed = true
            }
        }
    }

    deinit { close() }

    /// The TPMA_CC of `code` (tpm2_find_cc: the command index and the vendor bit compared).
    static func find(_ code: UInt32, in table: [UInt32]) -> UInt32? {
        let mask: UInt32 = 1 << 29 | 0xFFFF
        return table.first { $0 & mask == code & mask }
    }

    /// The TPM's command attributes (``VirtualTPM/commandAttributeTable()``).
    func commandAttributes() throws(VTPMError) -> [UInt32] { try tpm.commandAttributeTable() }
}

extension VirtualTPM {
    /// The TPM's command attributes, read once per vTPM (tpm2_get_cc_attrs_tbl), with
    /// ContextSave and FlushContext counted as taking one handle so their handle is translated.
    /// Sent without the command lock: called by a space that holds it, or at start.
    func commandAttributeTable() throws(VTPMError) -> [UInt32] {
        let tpm = self
        if let table = tpm.commandAttributes.withLock({ $0 }) { return table }
        var table: [UInt32] = []
        var next: UInt32 = 0x11F  // TPM2_CC_FIRST
        while table.count < 1024 {
            let response = try tpm.send(TPM2Commands.getCapability(2, property: next, count: 256))
            var reader = try TPM2Commands.capabilityData(response, command: "TPM2_GetCapability(TPM_CAP_COMMANDS)")
            let count = try reader.u32BigEndian("count")
            for _ in 0..<min(count, 256) {
                var attributes = try reader.u32BigEndian("TPMA_CC")
                let code = attributes & 0xFFFF
                if code == TPM2Commands.Code.contextSave.rawValue || code == TPM2Commands.Code.flushContext.rawValue {
                    attributes = attributes & ~(0x7 << 25) | 1 << 25
                }
                table.append(attributes)
                next = code + 1
            }
            if response[10] == 0 || count == 0 { break }
        }
        let result = table
        tpm.commandAttributes.withLock { $0 = result }
        return result
    }
}

/// What a space keeps between commands (struct tpm_space).
struct SpaceState {
    /// Per object slot: 0 free, 0xFFFFFFFF saved (its context in `contexts`), or the physical
    /// handle while loaded during a command.
    var objects: [UInt32] = [0, 0, 0]
    var contexts: [[UInt8]] = [[], [], []]
    /// Per session slot: 0 free, or the session's handle (sessions keep theirs).
    var sessions: [UInt32] = [0, 0, 0]
    var sessionContexts: [[UInt8]] = [[], [], []]
    var closed = false
    /// Set on a working copy whose session failed to load: the space forgets its sessions.
    var forgetSessions = false

    static let saved: UInt32 = 0xFFFF_FFFF
    /// The bytes of saved contexts a space may hold (the kernel's PAGE_SIZE buffers).
    static let contextLimit = 4096
}
