import Crypto
import TSMBytes
import TSMEvidence

/// TPM2_NV_ReadPublic and TPM2_NV_Read of the HCL report's index (0x01400001), answered by tsmfs
/// as a TPM answers them for an index of 2,600 bytes (TPM 2.0 Part 3 §31.13, §31.6).
extension AzurePersonality {
    /// TPM_RC_AUTH_UNAVAILABLE: what an HMAC or policy session on these two commands gets (tsmfs
    /// cannot compute the HMAC over an index swtpm does not hold).
    static let authUnavailable: UInt32 = 0x12F
    /// TPM_RC_VALUE + TPM_RC_P + TPM_RC_1: NV_Read's `size` larger than TPM_PT_NV_BUFFER_MAX.
    static let sizeTooLarge: UInt32 = 0x1C4
    /// TPM_RC_VALUE + TPM_RC_P + TPM_RC_2: NV_Read's `offset` past the index's size.
    static let offsetTooLarge: UInt32 = 0x2C4
    /// TPM_RC_NV_RANGE: `offset + size` past the index's size.
    static let range: UInt32 = 0x146

    /// The index's TPMS_NV_PUBLIC.
    static var reportPublicArea: [UInt8] {
        PersonalityCommands.nvPublicArea(
            index: AzureHCLReport.nvIndex, attributes: reportAttributes, size: AzureHCLReport.nvSize)
    }

    /// The index's Name: nameAlg (SHA-256) then SHA-256 of its TPMS_NV_PUBLIC.
    public static var reportIndexName: [UInt8] {
        TPMAlgorithmID.sha256.bigEndianBytes + Array(SHA256.hash(data: reportPublicArea))
    }

    /// A response of `code` alone (what a TPM returns for a failure).
    static func failure(_ code: UInt32) -> [UInt8] {
        TPM2Commands.tagNoSessions.bigEndianBytes + UInt32(10).bigEndianBytes + code.bigEndianBytes
    }

    /// NV_ReadPublic: TPM2B_NV_PUBLIC and TPM2B_NAME. A command of more than the handle goes to
    /// swtpm (its placeholder index answers the same error); one with sessions (audit or encrypt:
    /// NV_ReadPublic has no authorisation) gets TPM_RC_AUTH_UNAVAILABLE.
    func answerReadPublic(_ command: [UInt8]) -> [UInt8]? {
        let tag = UInt16(bigEndianBytes: command[0..<2])
        if tag == TPM2Commands.tagSessions { return Self.failure(Self.authUnavailable) }
        guard tag == TPM2Commands.tagNoSessions, command.count == 14 else { return nil }
        var body = ByteWriter()
        body.sized16(Self.reportPublicArea)
        body.sized16(Self.reportIndexName)
        var writer = ByteWriter()
        writer.u16BigEndian(TPM2Commands.tagNoSessions)
        writer.u32BigEndian(UInt32(10 + body.bytes.count))
        writer.u32BigEndian(0)
        writer.append(body.bytes)
        return writer.bytes
    }

    /// NV_Read(authHandle, 0x01400001, size, offset). The authorisation is swtpm's: the same
    /// command for 1 byte of the placeholder index (same attributes and handle) is sent, and its
    /// failure (a wrong password, an authHandle that may not read, DA lockout) is the answer; its
    /// success gives the response auth area. Then `size` over TPM_PT_NV_BUFFER_MAX, `offset` past
    /// 2,600 and `offset + size` past 2,600 are refused as NV_Read refuses them. A password session
    /// (TPM_RS_PW), or one unbound, unsalted HMAC session (AzurePersonality+Sessions.swift; its
    /// probe is a password one); any other session gets TPM_RC_AUTH_UNAVAILABLE. A command that does
    /// not parse goes to swtpm, whose placeholder index makes the same parse error.
    func answerRead(_ command: [UInt8], tpm: VirtualTPM) throws(VTPMError) -> [UInt8]? {
        guard UInt16(bigEndianBytes: command[0..<2]) == TPM2Commands.tagSessions else { return nil }
        var reader = ByteReader<VTPMError>(command, structure: "TPM2_NV_Read", offset: 18)
        guard let authSize = try? reader.u32BigEndian("authorizationSize"),
            let authorization = try? reader.read(Int(authSize), "authorization"),
            let size = try? reader.u16BigEndian("size"), let offset = try? reader.u16BigEndian("offset"),
            reader.isAtEnd
        else { return nil }
        guard let entries = Self.sessionEntries(authorization) else { return nil }
        let authHandle = UInt32(bigEndianBytes: command[10..<14])
        var hmac: (check: Bool, respond: ([UInt8]) -> [UInt8])?
        var probe = Array(command[0..<(reader.offset - 4)]) + UInt16(1).bigEndianBytes + UInt16(0).bigEndianBytes
        if let session = entries.first(where: { $0.handle != TPM2Commands.passwordSession }) {
            guard entries.count == 1,
                let made = hmacAuthorization(
                    session, authHandle: authHandle, parameters: size.bigEndianBytes + offset.bigEndianBytes)
            else { return Self.failure(Self.authUnavailable) }
            hmac = made
            // swtpm judges the authHandle with the empty password the HMAC was checked with.
            probe = PersonalityCommands.command(
                PersonalityCommands.nvRead, handles: [authHandle, AzureHCLReport.nvIndex], passwords: 1,
                parameters: UInt16(1).bigEndianBytes + UInt16(0).bigEndianBytes)
        }
        probe.replaceSubrange(2..<6, with: UInt32(probe.count).bigEndianBytes)
        let raw = try tpm.forward(probe)
        let probed = try TPMResponse(raw)
        guard probed.code == .success else { return raw }
        if let hmac, !hmac.check { return Self.failure(Self.authFail) }
        var probeReader = ByteReader<VTPMError>(probed.body, structure: "TPM2_NV_Read response")
        let parameterSize = Int(try probeReader.u32BigEndian("parameterSize"))
        _ = try probeReader.read(parameterSize, "parameters")
        let probeAuthorization = Array(probed.body[probeReader.offset...])

        let (report, bufferMax) = state.withLock { ($0.report, $0.bufferMax) }
        let (count, start) = (Int(size), Int(offset))
        if count > bufferMax { return Self.failure(Self.sizeTooLarge) }
        if start > report.count { return Self.failure(Self.offsetTooLarge) }
        if count > report.count - start { return Self.failure(Self.range) }
        var data = ByteWriter()
        data.sized16(Array(report[start..<start + count]))
        var body = ByteWriter()
        body.u32BigEndian(UInt32(2 + count))
        body.append(data.bytes)
        body.append(hmac?.respond(data.bytes) ?? probeAuthorization)
        var writer = ByteWriter()
        writer.u16BigEndian(TPM2Commands.tagSessions)
        writer.u32BigEndian(UInt32(10 + body.bytes.count))
        writer.u32BigEndian(0)
        writer.append(body.bytes)
        return writer.bytes
    }
}
