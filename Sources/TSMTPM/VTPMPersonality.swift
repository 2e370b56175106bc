import TSMBytes
import TSMEvidence

/// What makes a vTPM the one a cloud gives (issue 27: `--vtpm azure|gcp`): what it provisions at
/// each start, after the EK certificate, and the few commands tsmfs answers itself. Every other
/// command goes to swtpm untouched. Given in ``VTPMConfiguration/personality``.
///
/// A personality sends its own commands with `VirtualTPM.forward`, which skips it; never with
/// ``VirtualTPM/transmit(_:)`` (its callbacks run while the command in hand holds the TPM).
public protocol VTPMPersonality: Sendable {
    /// Makes sure the TPM holds what the personality needs (keys, NV indices, certificates). Called
    /// at every start with the same state directory, so it must be idempotent. A failure stops the
    /// vTPM and is what ``VirtualTPM/start(_:logger:)`` throws.
    func provision(_ tpm: VirtualTPM) throws(VTPMError)
    /// The response tsmfs gives itself to `command` (already checked as tpm_transmit checks it),
    /// or nil to send it to swtpm.
    func answer(_ command: [UInt8], tpm: VirtualTPM) throws(VTPMError) -> [UInt8]?
    /// Called after swtpm answered `command` with `response`.
    func observe(_ command: [UInt8], response: [UInt8], tpm: VirtualTPM)
}

extension VTPMPersonality {
    public func answer(_ command: [UInt8], tpm: VirtualTPM) throws(VTPMError) -> [UInt8]? { nil }
    public func observe(_ command: [UInt8], response: [UInt8], tpm: VirtualTPM) {}
}

extension VirtualTPM {
    /// The RSA EK's TPMT_PUBLIC (TPM2_ReadPublic of 0x81010001, without the TPM2B size): what the
    /// SVSM manifest's vTPM service entry holds (coconut-svsm `kernel/src/protocols/attest.rs`,
    /// go-tpm-tools `cmd/verify_svsm.go`). Throws ``VTPMError/tpm(command:responseCode:)`` when the
    /// TPM has no EK there.
    public func endorsementKeyPublic() throws(VTPMError) -> [UInt8] {
        try PersonalityCommands.readPublic(self, handle: TPM2Commands.rsaEKHandle)
    }
}

/// The raw commands the personalities send (TPM 2.0 Part 3), by command code, with empty
/// password sessions; and the NV helpers of their provisioning.
enum PersonalityCommands {
    static let createPrimary: UInt32 = 0x0131
    static let evictControl: UInt32 = 0x0120
    static let flushContext: UInt32 = 0x0165
    static let readPublicCode: UInt32 = 0x0173
    static let nvDefineSpace: UInt32 = 0x012A
    static let nvUndefineSpace: UInt32 = 0x0122
    static let nvWrite: UInt32 = 0x0137
    static let nvWriteLock: UInt32 = 0x0138
    static let nvRead: UInt32 = 0x014E
    static let nvReadPublic: UInt32 = 0x0169
    static let endorsementHierarchy: UInt32 = 0x4000_000B

    /// TPMA_NV bits (Part 2 §13.4).
    enum NV {
        static let ppWrite: UInt32 = 1 << 0
        static let ownerWrite: UInt32 = 1 << 1
        static let authWrite: UInt32 = 1 << 2
        static let writeDefine: UInt32 = 1 << 13
        static let ppRead: UInt32 = 1 << 16
        static let ownerRead: UInt32 = 1 << 17
        static let authRead: UInt32 = 1 << 18
        static let noDA: UInt32 = 1 << 25
        static let written: UInt32 = 1 << 29
        static let platformCreate: UInt32 = 1 << 30
        /// A read-only certificate or template index as a manufacturer leaves it (swtpm_setup's
        /// EK certificate index): platform-written, readable by platform, owner and index auth.
        static let readOnlyPlatform = ppWrite | writeDefine | ppRead | ownerRead | authRead | noDA | platformCreate
    }

    /// A command: header, handles, one empty password session per entry of `passwords`, parameters.
    static func command(_ code: UInt32, handles: [UInt32] = [], passwords: Int = 0, parameters: [UInt8] = [])
        -> [UInt8]
    {
        var body = ByteWriter()
        for handle in handles { body.u32BigEndian(handle) }
        if passwords > 0 {
            body.u32BigEndian(UInt32(9 * passwords))
            for _ in 0..<passwords { body.append([0x40, 0, 0, 0x09, 0, 0, 0, 0, 0]) }
        }
        body.append(parameters)
        var writer = ByteWriter()
        writer.u16BigEndian(passwords > 0 ? TPM2Commands.tagSessions : TPM2Commands.tagNoSessions)
        writer.u32BigEndian(UInt32(10 + body.bytes.count))
        writer.u32BigEndian(code)
        writer.append(body.bytes)
        return writer.bytes
    }

    /// `command` sent past the personality; throws `.tpm` naming `name` unless it succeeds.
    @discardableResult
    static func run(_ tpm: VirtualTPM, _ command: [UInt8], _ name: String) throws(VTPMError) -> TPMResponse {
        try TPM2Commands.expectSuccess(tpm.forward(command), command: name)
    }

    /// The TPMT_PUBLIC of the object at `handle` (TPM2_ReadPublic).
    static func readPublic(_ tpm: VirtualTPM, handle: UInt32) throws(VTPMError) -> [UInt8] {
        let response = try run(
            tpm, command(readPublicCode, handles: [handle]), "TPM2_ReadPublic(0x\(Hex.digits(of: handle)))")
        var reader = ByteReader<VTPMError>(try response.parameters(), structure: "TPM2_ReadPublic response")
        return try reader.sized16("outPublic")
    }

    /// The object at persistent `handle` exists.
    static func exists(_ tpm: VirtualTPM, handle: UInt32) throws(VTPMError) -> Bool {
        let response = try TPMResponse(tpm.forward(command(readPublicCode, handles: [handle])))
        return response.code == .success
    }

    /// TPM2_CreatePrimary of `template` (a TPMT_PUBLIC) under `hierarchy`: the transient handle
    /// and the key's TPMT_PUBLIC.
    static func createPrimary(_ tpm: VirtualTPM, hierarchy: UInt32, template: [UInt8]) throws(VTPMError)
        -> (handle: UInt32, public: [UInt8])
    {
        var parameters = ByteWriter()
        parameters.append([0, 4, 0, 0, 0, 0])  // inSensitive: empty userAuth and data
        parameters.sized16(template)
        parameters.sized16([])  // outsideInfo
        parameters.u32BigEndian(0)  // creationPCR
        let response = try run(
            tpm, command(createPrimary, handles: [hierarchy], passwords: 1, parameters: parameters.bytes),
            "TPM2_CreatePrimary")
        var reader = ByteReader<VTPMError>(response.body, structure: "TPM2_CreatePrimary response")
        let handle = try reader.u32BigEndian("objectHandle")
        var parametersReader = ByteReader<VTPMError>(
            try response.parameters(handles: 1), structure: "TPM2_CreatePrimary response")
        return (handle, try parametersReader.sized16("outPublic"))
    }

    /// TPM2_FlushContext of a transient object.
    static func flush(_ tpm: VirtualTPM, handle: UInt32) throws(VTPMError) {
        try run(tpm, command(flushContext, parameters: handle.bigEndianBytes), "TPM2_FlushContext")
    }

    /// Makes NV `index` (platform-created, `attributes`) hold exactly `data`: kept when it already
    /// does, otherwise undefined (when present) and defined, written in `chunk`-byte pieces and,
    /// when `lock`, write-locked. Platform authorisation, as a manufacturer writes it.
    static func ensureIndex(
        _ tpm: VirtualTPM, index: UInt32, data: [UInt8], attributes: UInt32, lock: Bool = true, chunk: Int = 1024
    ) throws(VTPMError) {
        let platform = TPM2Commands.platformHierarchy
        let name = "NV 0x\(Hex.digits(of: index))"
        let nvPublic = try TPMResponse(tpm.forward(command(nvReadPublic, handles: [index])))
        if nvPublic.code == .success {
            if try read(tpm, index: index, size: data.count, chunk: chunk) == data { return }
            try run(tpm, command(nvUndefineSpace, handles: [platform, index], passwords: 1), "\(name) UndefineSpace")
        }
        var define = ByteWriter()
        define.u16BigEndian(0)  // auth
        define.u16BigEndian(14)  // TPMS_NV_PUBLIC size
        define.u32BigEndian(index)
        define.u16BigEndian(TPMAlgorithmID.sha256)
        define.u32BigEndian(attributes)
        define.u16BigEndian(0)  // authPolicy
        define.u16BigEndian(UInt16(data.count))
        try run(
            tpm, command(nvDefineSpace, handles: [platform], passwords: 1, parameters: define.bytes),
            "\(name) DefineSpace")
        var offset = 0
        while offset < data.count {
            var write = ByteWriter()
            write.sized16(Array(data[offset..<min(offset + chunk, data.count)]))
            write.u16BigEndian(UInt16(offset))
            try run(
                tpm, command(nvWrite, handles: [platform, index], passwords: 1, parameters: write.bytes),
                "\(name) Write")
            offset += chunk
        }
        if lock {
            try run(tpm, command(nvWriteLock, handles: [platform, index], passwords: 1), "\(name) WriteLock")
        }
    }

    /// NV `index`'s first `size` bytes read with `authHandle`'s empty password (platform by
    /// default); nil when they cannot be read (shorter, unwritten, refused).
    static func read(
        _ tpm: VirtualTPM, index: UInt32, size: Int, chunk: Int = 1024,
        authHandle: UInt32 = TPM2Commands.platformHierarchy
    ) throws(VTPMError) -> [UInt8]? {
        var bytes: [UInt8] = []
        while bytes.count < size {
            var parameters = ByteWriter()
            parameters.u16BigEndian(UInt16(min(chunk, size - bytes.count)))
            parameters.u16BigEndian(UInt16(bytes.count))
            let response = try TPMResponse(
                tpm.forward(command(nvRead, handles: [authHandle, index], passwords: 1, parameters: parameters.bytes)))
            guard response.code == .success else { return nil }
            var reader = ByteReader<VTPMError>(try response.parameters(), structure: "TPM2_NV_Read response")
            let data = try reader.sized16("data")
            guard !data.isEmpty else { return nil }
            bytes += data
        }
        return bytes
    }

    /// The TPMS_NV_PUBLIC of the index (its exact bytes), as TPM2_NV_ReadPublic reads it.
    static func nvPublicArea(index: UInt32, attributes: UInt32, size: Int) -> [UInt8] {
        var writer = ByteWriter()
        writer.u32BigEndian(index)
        writer.u16BigEndian(TPMAlgorithmID.sha256)
        writer.u32BigEndian(attributes)
        writer.sized16([])
        writer.u16BigEndian(UInt16(size))
        return writer.bytes
    }

    /// A TPM public key parsed, or `.responseMalformed` naming what it is.
    static func parsedPublic(_ bytes: [UInt8], what: String) throws(VTPMError) -> TPMPublic {
        do {
            return try TPMPublic(parsing: bytes)
        } catch {
            throw .responseMalformed(reason: "\(what): \(error)")
        }
    }
}
