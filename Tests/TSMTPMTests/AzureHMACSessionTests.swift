import Crypto
import TSMBytes
import TSMEvidence
import TSMTPM
import Testing

/// The HCL report's NV_Read under an unbound, unsalted HMAC session, as tpm2-tools sends it: the
/// HMACs computed here from TPM 2.0 Part 1 §19.6, with the empty session key and authValue.
@Suite("Azure's HCL report under an HMAC session", .serialized)
struct AzureHMACSessionTests {
    static let owner = TPM2Commands.ownerHierarchy
    static let nvRead: UInt32 = 0x014E

    /// TPM2_StartAuthSession of an HMAC session bound to `bind`, unsalted, SHA-256: its handle and
    /// nonceTPM, or the response code.
    static func startSession(_ tpm: VirtualTPM, bind: UInt32 = 0x4000_0007) throws -> (UInt32, [UInt8]) {
        var parameters = ByteWriter()
        parameters.sized16([UInt8](repeating: 7, count: 32))  // nonceCaller
        parameters.sized16([])  // encryptedSalt
        parameters.u8(0)  // TPM_SE_HMAC
        parameters.u16BigEndian(0x0010)  // symmetric: TPM_ALG_NULL
        parameters.u16BigEndian(0x000B)  // authHash: SHA-256
        let response = try TPMResponse(
            tpm.transmit(
                TPM2Commands.command(.startAuthSession, handles: [0x4000_0007, bind], parameters: parameters.bytes)))
        try #require(response.code == .success)
        var reader = ByteReader<VTPMError>(response.body, structure: "StartAuthSession response")
        return (try reader.u32BigEndian("handle"), try reader.sized16("nonceTPM"))
    }

    static func hmac(_ parts: [UInt8]...) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: parts.flatMap { $0 }, using: SymmetricKey(data: [UInt8]())))
    }

    /// NV_Read of the report's first `size` bytes by the owner under `session`; `hmac` overrides
    /// the right one. The response and the caller's nonce.
    static func read(
        _ tpm: VirtualTPM, session: UInt32, nonceTPM: [UInt8], size: Int, hmac override: [UInt8]? = nil
    ) throws -> (TPMResponse, [UInt8]) {
        let parameters = UInt16(size).bigEndianBytes + UInt16(0).bigEndianBytes
        let cpHash = Array(
            SHA256.hash(
                data: nvRead.bigEndianBytes + owner.bigEndianBytes + AzurePersonality.reportIndexName + parameters))
        let nonce = (0..<32).map { _ in UInt8.random(in: 0...255) }
        var command = ByteWriter()
        command.u16BigEndian(TPM2Commands.tagSessions)
        command.u32BigEndian(0)
        command.u32BigEndian(nvRead)
        command.u32BigEndian(owner)
        command.u32BigEndian(AzureHCLReport.nvIndex)
        var area = ByteWriter()
        area.u32BigEndian(session)
        area.sized16(nonce)
        area.u8(1)  // continueSession
        area.sized16(override ?? hmac(cpHash, nonce, nonceTPM, [1]))
        command.u32BigEndian(UInt32(area.bytes.count))
        command.append(area.bytes + parameters)
        var bytes = command.bytes
        bytes.replaceSubrange(2..<6, with: UInt32(bytes.count).bigEndianBytes)
        return (try TPMResponse(tpm.transmit(bytes)), nonce)
    }

    @Test(
        "a right HMAC reads the report, its response HMAC checks; a wrong one: AUTH_FAIL; a bound one: AUTH_UNAVAILABLE"
    )
    func session() throws {
        try withPersonality(try azurePersonality()) { tpm in
            let expected = Array(try readReport(tpm).prefix(1024))
            var (handle, nonceTPM) = try Self.startSession(tpm)
            for _ in 0..<2 {
                let (response, caller) = try Self.read(tpm, session: handle, nonceTPM: nonceTPM, size: 1024)
                try #require(response.code == .success, "\(response.code)")
                var reader = ByteReader<VTPMError>(response.body, structure: "NV_Read response")
                let parameterSize = Int(try reader.u32BigEndian("parameterSize"))
                let parameters = try reader.read(parameterSize, "parameters")
                #expect(Array(parameters.dropFirst(2)) == expected)
                let fresh = try reader.sized16("nonceTPM")
                #expect(try reader.u8("attributes") == 1)
                let rpHash = Array(SHA256.hash(data: [0, 0, 0, 0] + Self.nvRead.bigEndianBytes + parameters))
                #expect(try reader.sized16("hmac") == Self.hmac(rpHash, fresh, caller, [1]))
                #expect(fresh != nonceTPM && fresh.count == 32)
                nonceTPM = fresh
            }
            let wrong = [UInt8](repeating: 0, count: 32)
            let (refused, _) = try Self.read(tpm, session: handle, nonceTPM: nonceTPM, size: 16, hmac: wrong)
            #expect(refused.code.rawValue == 0x98E)
            // A stale nonceTPM is a wrong HMAC too; the refusals did not roll the nonce.
            let (stale, _) = try Self.read(tpm, session: handle, nonceTPM: wrong, size: 16)
            #expect(stale.code.rawValue == 0x98E)
            let (again, _) = try Self.read(tpm, session: handle, nonceTPM: nonceTPM, size: 16)
            #expect(again.code == .success)
            _ = try tpm.transmit(TPM2Commands.command(.flushContext, parameters: handle.bigEndianBytes))

            (handle, nonceTPM) = try Self.startSession(tpm, bind: Self.owner)
            let (bound, _) = try Self.read(tpm, session: handle, nonceTPM: nonceTPM, size: 16)
            #expect(bound.code.rawValue == 0x12F)
            _ = try tpm.transmit(TPM2Commands.command(.flushContext, parameters: handle.bigEndianBytes))
        }
    }
}
