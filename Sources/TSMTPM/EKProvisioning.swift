import TSMBytes
import TSMEvidence

/// The EK certificate in NV 0x01C00002, written by tsmfs through TPM commands with platform
/// authorization as a TPM manufacturer does (TCG EK Credential Profile 2.2.1.5), signed by the
/// mock EK CA of the seed. Checked at every start: a certificate of another seed is replaced.
enum EKProvisioning {
    /// The index's attributes, as swtpm_setup gives an EK certificate index: TPMA_NV_PPWRITE,
    /// WRITEDEFINE, PPREAD, OWNERREAD, AUTHREAD, NO_DA, PLATFORMCREATE.
    static let attributes: UInt32 =
        0x0000_0001 | 0x0000_2000 | 0x0001_0000 | 0x0002_0000 | 0x0004_0000
        | 0x0200_0000 | 0x4000_0000
    static let index = TPM2Commands.rsaEKCertificateIndex
    static let platform = TPM2Commands.platformHierarchy

    static func ensureCertificate(_ tpm: VirtualTPM, seed: String) throws(VTPMError) {
        let ek = try rsaPublicKey(tpm.transmit(TPM2Commands.command(.readPublic, handles: [TPM2Commands.rsaEKHandle])))
        let properties = try TPM2Commands.properties(
            tpm.transmit(TPM2Commands.getCapability(6, property: 0x105, count: 7)))
        let identity = TPMEKAuthority.TPMIdentity(
            manufacturer: "id:" + Hex.digits(of: properties[0x105] ?? 0).uppercased(),
            model: vendorString(properties), version: "id:" + Hex.digits(of: properties[0x10B] ?? 0).uppercased())
        let certificate: [UInt8]
        do {
            certificate = try TPMEKAuthority(seed: seed).rsaEKCertificate(
                modulus: ek.modulus, exponent: ek.exponent, tpm: identity)
        } catch {
            throw .certificate(role: "EK", reason: "\(error)")
        }
        let nvPublic = try TPMResponse(tpm.transmit(TPM2Commands.command(.nvReadPublic, handles: [index])))
        if nvPublic.code == .success {
            if try read(tpm, size: certificate.count) == certificate { return }
            tpm.logger.info("vTPM: replacing the EK certificate of another seed")
            try TPM2Commands.expectSuccess(
                tpm.transmit(TPM2Commands.command(.nvUndefineSpace, handles: [platform, index], passwords: 1)),
                command: "TPM2_NV_UndefineSpace")
        } else if nvPublic.code.base != TPMResponseCode.handle.rawValue {
            throw .tpm(command: "TPM2_NV_ReadPublic", responseCode: nvPublic.code.rawValue)
        }
        var define = ByteWriter()
        define.u16BigEndian(0)  // auth
        define.u16BigEndian(14)  // TPMS_NV_PUBLIC size
        define.u32BigEndian(index)
        define.u16BigEndian(TPMAlgorithm.sha256.rawValue)
        define.u32BigEndian(attributes)
        define.u16BigEndian(0)  // authPolicy
        define.u16BigEndian(UInt16(certificate.count))
        try TPM2Commands.expectSuccess(
            tpm.transmit(
                TPM2Commands.command(.nvDefineSpace, handles: [platform], passwords: 1, parameters: define.bytes)),
            command: "TPM2_NV_DefineSpace")
        var offset = 0
        while offset < certificate.count {
            let chunk = Array(certificate[offset..<min(offset + TPM2Commands.nvChunk, certificate.count)])
            var write = ByteWriter()
            write.u16BigEndian(UInt16(chunk.count))
            write.append(chunk)
            write.u16BigEndian(UInt16(offset))
            try TPM2Commands.expectSuccess(
                tpm.transmit(
                    TPM2Commands.command(.nvWrite, handles: [platform, index], passwords: 1, parameters: write.bytes)),
                command: "TPM2_NV_Write")
            offset += chunk.count
        }
        try TPM2Commands.expectSuccess(
            tpm.transmit(TPM2Commands.command(.nvWriteLock, handles: [platform, index], passwords: 1)),
            command: "TPM2_NV_WriteLock")
        tpm.logger.info("vTPM: EK certificate written", metadata: ["nv index": "0x01c00002"])
    }

    /// The index's contents when it holds `size` bytes; nil when its size differs or it cannot be
    /// read (then it is replaced).
    static func read(_ tpm: VirtualTPM, size: Int) throws(VTPMError) -> [UInt8]? {
        var bytes: [UInt8] = []
        while bytes.count < size {
            var parameters = ByteWriter()
            parameters.u16BigEndian(UInt16(min(TPM2Commands.nvChunk, size - bytes.count)))
            parameters.u16BigEndian(UInt16(bytes.count))
            let response = try TPMResponse(
                tpm.transmit(
                    TPM2Commands.command(
                        .nvRead, handles: [platform, index], passwords: 1, parameters: parameters.bytes)))
            guard response.code == .success else { return nil }
            var reader = ByteReader<VTPMError>(try response.parameters(), structure: "TPM2_NV_Read response")
            let chunk = try reader.read(Int(try reader.u16BigEndian("data.size")), "data")
            guard !chunk.isEmpty else { return nil }
            bytes += chunk
        }
        return bytes
    }

    /// The RSA modulus and exponent of a TPM2_ReadPublic answer (TPMT_PUBLIC of type TPM_ALG_RSA).
    static func rsaPublicKey(_ response: [UInt8]) throws(VTPMError) -> (modulus: [UInt8], exponent: UInt32) {
        let parsed = try TPM2Commands.expectSuccess(response, command: "TPM2_ReadPublic(0x81010001)")
        var reader = ByteReader<VTPMError>(try parsed.parameters(), structure: "TPM2B_PUBLIC")
        _ = try reader.u16BigEndian("size")
        let type = try reader.u16BigEndian("type")
        guard type == 0x0001 else { throw .responseMalformed(reason: "the EK at 0x81010001 is not an RSA key") }
        _ = try reader.u16BigEndian("nameAlg")
        _ = try reader.u32BigEndian("objectAttributes")
        _ = try reader.read(Int(try reader.u16BigEndian("authPolicy.size")), "authPolicy")
        if try reader.u16BigEndian("symmetric.algorithm") != 0x0010 {
            _ = try reader.u16BigEndian("symmetric.keyBits")
            _ = try reader.u16BigEndian("symmetric.mode")
        }
        if try reader.u16BigEndian("scheme.scheme") != 0x0010 { _ = try reader.u16BigEndian("scheme.hashAlg") }
        _ = try reader.u16BigEndian("keyBits")
        let exponent = try reader.u32BigEndian("exponent")
        let modulus = try reader.read(Int(try reader.u16BigEndian("unique.size")), "unique")
        return (modulus, exponent)
    }

    /// TPM_PT_VENDOR_STRING_1...4 as text, NULs dropped ("SW   TPM" for swtpm).
    static func vendorString(_ properties: [UInt32: UInt32]) -> String {
        let bytes = (0x106...0x109).flatMap { (properties[UInt32($0)] ?? 0).bigEndianBytes }.filter { $0 != 0 }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: " ")
        return text.isEmpty ? "unknown" : text
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(self.drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
