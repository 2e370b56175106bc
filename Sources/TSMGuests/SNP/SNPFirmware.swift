import Crypto
import SystemPackage
import TSMBytes
import TSMEvidence

/// What the AMD Secure Processor answers the SEV-SNP guest driver's messages with: MSG_REPORT_RSP
/// for MSG_REPORT_REQ and MSG_KEY_RSP for MSG_KEY_REQ (SEV-SNP firmware ABI, "Guest messages"),
/// over the same report provider as configfs-tsm, so a report is byte-identical to the
/// `sev_guest` outblob for the same user data and VMPL. The host's certificate table is the
/// configfs auxblob.
struct SNPFirmware: Sendable {
    /// `sizeof(struct snp_report_req)`: user data (64), VMPL (u32), 28 reserved bytes.
    static let reportRequestSize = 96
    /// `sizeof(struct snp_report_resp)`.
    static let reportResponseSize = 4000
    /// `sizeof(struct snp_derived_key_req)`.
    static let keyRequestSize = 32
    /// `sizeof(struct snp_derived_key_resp)`.
    static let keyResponseSize = 64
    /// SEV_RET_INVALID_PARAM, the status of a message whose fields the firmware refuses.
    static let invalidParameter: UInt32 = 0x16
    /// GUEST_FIELD_SELECT bits the firmware knows: policy, image ID, family ID, measurement,
    /// guest SVN, TCB version.
    static let guestFieldMask: UInt64 = 0x3F

    let reports: SNPReportProvider
    let seed: String

    /// MSG_REPORT_RSP, zero-padded to `snp_report_resp`: status, REPORT_SIZE, 24 reserved bytes,
    /// the report. Status INVALID_PARAM (no report) for a VMPL above 3 or below the VMPCK in use,
    /// or reserved bytes that are not zero. EIO if the report cannot be signed.
    func report(_ request: [UInt8]) throws(Errno) -> [UInt8] {
        try extendedReport(request).response
    }

    /// The report response and the host's certificate table (the configfs auxblob).
    func extendedReport(_ request: [UInt8]) throws(Errno) -> (response: [UInt8], table: [UInt8]) {
        let vmpl = UInt32(littleEndianBytes: request[64..<68])
        let table = reports.authority.snpAuxblob
        guard vmpl <= 3, vmpl >= reports.privlevelFloor, request[68..<96].allSatisfy({ $0 == 0 }) else {
            return (Self.response(status: Self.invalidParameter, payload: [], size: Self.reportResponseSize), table)
        }
        let blobs = try reports.signedReport(reportData: Array(request[0..<64]), vmpl: vmpl)
        var payload = UInt32(blobs.outblob.count).littleEndianBytes + [UInt8](repeating: 0, count: 24)
        payload += blobs.outblob
        return (Self.response(status: 0, payload: payload, size: Self.reportResponseSize), blobs.auxblob)
    }

    /// MSG_KEY_RSP: status, 28 reserved bytes, the 32-byte key (see ``SNPDerivedKey``).
    func derivedKey(_ request: [UInt8]) -> [UInt8] {
        let key = SNPDerivedKey(request)
        let values = reports.registers.values()
        guard
            key.isValid(
                floor: reports.privlevelFloor, guestSVN: values.guestSVN,
                tcb: reports.authority.snpPlatform.tcb.rawValue)
        else {
            return Self.response(status: Self.invalidParameter, payload: [], size: Self.keyResponseSize)
        }
        let derived = key.derive(seed: seed, values: values)
        return Self.response(status: 0, payload: [UInt8](repeating: 0, count: 28) + derived, size: Self.keyResponseSize)
    }

    private static func response(status: UInt32, payload: [UInt8], size: Int) -> [UInt8] {
        let bytes = status.littleEndianBytes + payload
        return bytes + [UInt8](repeating: 0, count: max(0, size - bytes.count))
    }
}

/// One MSG_KEY_REQ (`struct snp_derived_key_req`) and the key tsmfs derives for it.
///
/// The key is HKDF-SHA-256 (RFC 5869) with input key material SHA-256("tsmfs sev-guest root key"
/// ‖ seed ‖ ROOT_KEY_SELECT as u32 LE), salt "tsmfs sev-guest derived key v1", and as info, in
/// order: GUEST_FIELD_SELECT (u64 LE), VMPL (u32 LE), then each selected field: bit 0 POLICY (u64
/// LE), bit 1 IMAGE_ID (16), bit 2 FAMILY_ID (16), bit 3 MEASUREMENT (48), bit 4 the request's
/// GUEST_SVN (u32 LE), bit 5 the request's TCB_VERSION (u64 LE); 32 bytes of output. Equal
/// requests on equal guests give equal keys on every release; any selected field, the seed, the
/// root key or the VMPL changes it.
struct SNPDerivedKey {
    let rootKeySelect: UInt32
    let reserved: UInt32
    let guestFieldSelect: UInt64
    let vmpl: UInt32
    let guestSVN: UInt32
    let tcbVersion: UInt64

    init(_ bytes: [UInt8]) {
        rootKeySelect = UInt32(littleEndianBytes: bytes[0..<4])
        reserved = UInt32(littleEndianBytes: bytes[4..<8])
        guestFieldSelect = UInt64(littleEndianBytes: bytes[8..<16])
        vmpl = UInt32(littleEndianBytes: bytes[16..<20])
        guestSVN = UInt32(littleEndianBytes: bytes[20..<24])
        tcbVersion = UInt64(littleEndianBytes: bytes[24..<32])
    }

    /// The firmware's checks: ROOT_KEY_SELECT bits 0-2 only (KEY_SEL 3 reserved), reserved zero,
    /// known field bits, VMPL from the VMPCK in use to 3, GUEST_SVN and each TCB component no
    /// higher than the guest's.
    func isValid(floor: UInt32, guestSVN current: UInt32, tcb: UInt64) -> Bool {
        guard rootKeySelect & ~UInt32(7) == 0, (rootKeySelect >> 1) & 3 != 3, reserved == 0 else { return false }
        guard guestFieldSelect & ~SNPFirmware.guestFieldMask == 0, vmpl >= floor, vmpl <= 3 else { return false }
        guard guestSVN <= current else { return false }
        let asked = tcbVersion.littleEndianBytes, have = tcb.littleEndianBytes
        return zip(asked, have).allSatisfy { $0 <= $1 }
    }

    func derive(seed: String, values: SNPRegisters.Values) -> [UInt8] {
        let root = Array(
            SHA256.hash(
                data: Array("tsmfs sev-guest root key".utf8) + Array(seed.utf8)
                    + rootKeySelect.littleEndianBytes))
        var info = guestFieldSelect.littleEndianBytes + vmpl.littleEndianBytes
        let fields: [(UInt64, [UInt8])] = [
            (1 << 0, values.policy.littleEndianBytes), (1 << 1, values.imageID), (1 << 2, values.familyID),
            (1 << 3, values.measurement), (1 << 4, guestSVN.littleEndianBytes), (1 << 5, tcbVersion.littleEndianBytes),
        ]
        for (bit, value) in fields where guestFieldSelect & bit != 0 { info += value }
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: root), salt: Array("tsmfs sev-guest derived key v1".utf8),
            info: info, outputByteCount: 32)
        return key.withUnsafeBytes { Array($0) }
    }
}
