import TSMBytes

/// Marshalling of the TPM 2.0 commands tsmfs sends itself (TPM 2.0 Part 3) and of their
/// responses: PCR_Read, PCR_Extend, GetCapability, and the NV and public-area commands of the EK
/// provisioning. Big-endian, as the TPM's wire format.
public enum TPM2Commands {
    /// TPM_ST_NO_SESSIONS: a command or response without an authorization area.
    public static let tagNoSessions: UInt16 = 0x8001
    /// TPM_ST_SESSIONS: with one.
    public static let tagSessions: UInt16 = 0x8002
    /// TPM_RS_PW: the password session.
    public static let passwordSession: UInt32 = 0x4000_0009
    /// TPM_RH_OWNER.
    public static let ownerHierarchy: UInt32 = 0x4000_0001
    /// TPM_RH_PLATFORM.
    public static let platformHierarchy: UInt32 = 0x4000_000C
    /// The RSA EK's persistent handle (TCG EK Credential Profile 2.2.1.4; swtpm_setup --createek).
    public static let rsaEKHandle: UInt32 = 0x8101_0001
    /// The RSA 2048 EK certificate's NV index (TCG EK Credential Profile 2.2.1.5).
    public static let rsaEKCertificateIndex: UInt32 = 0x01C0_0002
    /// The largest command or response the kernel's TPM driver passes (TPM_BUFSIZE).
    public static let bufferSize = 4096
    /// Bytes of one NV_Read or NV_Write (at most TPM_PT_NV_BUFFER_MAX of any TPM tsmfs drives).
    static let nvChunk = 1024

    /// TPM_CC values (TPM 2.0 Part 2, 6.5.2).
    public enum Code: UInt32, Sendable {
        case nvUndefineSpace = 0x0122
        case nvDefineSpace = 0x012A
        case createPrimary = 0x0131
        case nvWrite = 0x0137
        case nvWriteLock = 0x0138
        case nvRead = 0x014E
        case startup = 0x0144
        case shutdown = 0x0145
        case contextLoad = 0x0161
        case contextSave = 0x0162
        case flushContext = 0x0165
        case nvReadPublic = 0x0169
        case startAuthSession = 0x0176
        case getCapability = 0x017A
        case getRandom = 0x017B
        case readPublic = 0x0173
        case pcrRead = 0x017E
        case pcrExtend = 0x0182
        case policyAuthValue = 0x016B
        case policyGetDigest = 0x0189
    }

    /// A command: the header, `handles`, an authorization area of password sessions with empty
    /// passwords (one per entry of `passwords`; tagged TPM_ST_SESSIONS when there is one), then
    /// `parameters`.
    public static func command(
        _ code: Code, handles: [UInt32] = [], passwords: Int = 0, parameters: [UInt8] = []
    ) -> [UInt8] {
        var body = ByteWriter()
        for handle in handles { body.u32BigEndian(handle) }
        if passwords > 0 {
            body.u32BigEndian(UInt32(passwords * 9))
            for _ in 0..<passwords {
                body.u32BigEndian(passwordSession)
                body.u16BigEndian(0)  // nonce
                body.u8(0)  // continueSession clear: a password session is not a loaded session
                body.u16BigEndian(0)  // empty password
            }
        }
        body.append(parameters)
        var writer = ByteWriter()
        writer.u16BigEndian(passwords > 0 ? tagSessions : tagNoSessions)
        writer.u32BigEndian(UInt32(10 + body.bytes.count))
        writer.u32BigEndian(code.rawValue)
        writer.append(body.bytes)
        return writer.bytes
    }

    /// A TPML_PCR_SELECTION of one bank with one PCR selected (3 select bytes: PCRs 0-23).
    static func selection(bank: TPMAlgorithm, index: Int) -> [UInt8] {
        var writer = ByteWriter()
        writer.u32BigEndian(1)
        writer.u16BigEndian(bank.rawValue)
        writer.u8(3)
        var select: [UInt8] = [0, 0, 0]
        select[index / 8] |= 1 << (index % 8)
        writer.append(select)
        return writer.bytes
    }

    /// TPM2_PCR_Read of PCR `index` (0-23) in `bank`.
    public static func pcrRead(bank: TPMAlgorithm, index: Int) -> [UInt8] {
        command(.pcrRead, parameters: selection(bank: bank, index: min(max(index, 0), 23)))
    }

    /// The digest a PCR_Read response carries; TPM_RC_VALUE-like failure when the bank is not
    /// allocated (the TPM then returns no digest).
    public static func pcrReadDigest(_ response: [UInt8], bank: TPMAlgorithm) throws(VTPMError) -> [UInt8] {
        let parsed = try TPMResponse(response)
        guard parsed.code == .success else { throw .tpm(command: "TPM2_PCR_Read", responseCode: parsed.code.rawValue) }
        var reader = ByteReader<VTPMError>(try parsed.parameters(), structure: "TPM2_PCR_Read response")
        _ = try reader.u32BigEndian("pcrUpdateCounter")
        let banks = try reader.u32BigEndian("pcrSelectionOut.count")
        for _ in 0..<banks {
            _ = try reader.u16BigEndian("hash")
            _ = try reader.read(Int(try reader.u8("sizeofSelect")), "pcrSelect")
        }
        let count = try reader.u32BigEndian("pcrValues.count")
        guard count == 1 else {
            throw .tpm(
                command: "TPM2_PCR_Read (bank \(bank) not allocated)", responseCode: TPMResponseCode.value.rawValue)
        }
        let size = Int(try reader.u16BigEndian("digest.size"))
        return try reader.read(size, "digest")
    }

    /// TPM2_PCR_Extend of PCR `index` in `bank` with `digest` (bank.digestSize bytes), authorised
    /// by the PCR's empty password.
    public static func pcrExtend(index: Int, bank: TPMAlgorithm, digest: [UInt8]) -> [UInt8] {
        var parameters = ByteWriter()
        parameters.u32BigEndian(1)
        parameters.u16BigEndian(bank.rawValue)
        parameters.append(digest)
        return command(.pcrExtend, handles: [UInt32(index)], passwords: 1, parameters: parameters.bytes)
    }

    /// TPM2_GetCapability(capability, property, count).
    public static func getCapability(_ capability: UInt32, property: UInt32, count: UInt32) -> [UInt8] {
        var parameters = ByteWriter()
        parameters.u32BigEndian(capability)
        parameters.u32BigEndian(property)
        parameters.u32BigEndian(count)
        return command(.getCapability, parameters: parameters.bytes)
    }

    /// TPM_CAP_PCRS: the allocated banks.
    public static func getAllocatedBanks() -> [UInt8] { getCapability(5, property: 0, count: 1) }

    /// The banks a TPM_CAP_PCRS answer allocates, with the PCR indices each has selected; banks
    /// of algorithms tsmfs does not know are left out.
    public static func allocatedBanks(_ response: [UInt8]) throws(VTPMError) -> [TPMAlgorithm: [Int]] {
        var reader = try capabilityData(response, command: "TPM2_GetCapability(TPM_CAP_PCRS)")
        var banks: [TPMAlgorithm: [Int]] = [:]
        let count = try reader.u32BigEndian("count")
        for _ in 0..<min(count, 16) {
            let hash = try reader.u16BigEndian("hash")
            let select = try reader.read(Int(try reader.u8("sizeofSelect")), "pcrSelect")
            let indices = (0..<select.count * 8).filter { select[$0 / 8] & (1 << ($0 % 8)) != 0 }
            if let algorithm = TPMAlgorithm(rawValue: hash), !indices.isEmpty { banks[algorithm] = indices }
        }
        return banks
    }

    /// The reader positioned at a GetCapability answer's capability data (after moreData and the
    /// capability).
    static func capabilityData(_ response: [UInt8], command: String) throws(VTPMError) -> ByteReader<VTPMError> {
        let parsed = try TPMResponse(response)
        guard parsed.code == .success else { throw .tpm(command: command, responseCode: parsed.code.rawValue) }
        var reader = ByteReader<VTPMError>(try parsed.parameters(), structure: "\(command) response")
        _ = try reader.u8("moreData")
        _ = try reader.u32BigEndian("capability")
        return reader
    }

    /// The TPM_CAP_TPM_PROPERTIES answer as property → value.
    public static func properties(_ response: [UInt8]) throws(VTPMError) -> [UInt32: UInt32] {
        var reader = try capabilityData(response, command: "TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES)")
        var values: [UInt32: UInt32] = [:]
        let count = try reader.u32BigEndian("count")
        for _ in 0..<min(count, 256) {
            let property = try reader.u32BigEndian("property")
            values[property] = try reader.u32BigEndian("value")
        }
        return values
    }

    /// Throws `.tpm` unless `response` is a success; returns it parsed.
    @discardableResult
    public static func expectSuccess(_ response: [UInt8], command: String) throws(VTPMError) -> TPMResponse {
        let parsed = try TPMResponse(response)
        guard parsed.code == .success else { throw .tpm(command: command, responseCode: parsed.code.rawValue) }
        return parsed
    }
}
