import Crypto
import Logging
import TSMBytes
import TSMEvidence
import TSMTPM
import TestSupport
import Testing
import X509

/// A vTPM with `personality`, in `directory` (a fresh temporary one when nil).
func withPersonality<Result>(
    _ personality: any VTPMPersonality, directory: String? = nil, seed: String = "tsmfs",
    _ body: (VirtualTPM) throws -> Result
) throws -> Result {
    let parent = try directory ?? makeTemporaryDirectory("tsmfs-vtpm")
    defer { if directory == nil { removeTree(parent) } }
    let configuration = VTPMConfiguration(stateDirectory: parent + "/tpm", seed: seed, personality: personality)
    let tpm = try VirtualTPM.start(configuration, logger: Logger(label: "test"))
    defer { tpm.stop() }
    return try body(tpm)
}

/// The Azure personality with hardware reports signed by the seed's mock SNP platform.
func azurePersonality(seed: String = "tsmfs") throws -> AzurePersonality {
    let authority = try SNPAuthority(seed: seed)
    return AzurePersonality { reportData in
        try authority.sign(
            SNPReport(
                reportData: reportData, vmpl: 0, measurement: [UInt8](repeating: 0, count: 48),
                hostData: [UInt8](repeating: 0, count: 32), platform: authority.snpPlatform)
        ).report
    }
}

/// TPM2_NV_Read(authHandle, index, size, offset) with an empty password: the response.
func nvReadCommand(_ tpm: VirtualTPM, auth: UInt32, index: UInt32, size: Int, offset: Int) throws -> TPMResponse {
    let parameters = UInt16(size).bigEndianBytes + UInt16(offset).bigEndianBytes
    return try TPMResponse(
        tpm.transmit(TPM2Commands.command(.nvRead, handles: [auth, index], passwords: 1, parameters: parameters)))
}

/// The HCL report read in 1024-byte chunks, with `auth` (owner or the index itself).
func readReport(_ tpm: VirtualTPM, auth: UInt32 = TPM2Commands.ownerHierarchy) throws -> [UInt8] {
    let size = try nvSize(tpm, index: AzureHCLReport.nvIndex)
    var bytes: [UInt8] = []
    while bytes.count < size {
        let response = try nvReadCommand(
            tpm, auth: auth, index: AzureHCLReport.nvIndex, size: min(1024, size - bytes.count), offset: bytes.count)
        try #require(response.code == .success)
        // parameterSize, TPM2B data, then a password session's response as the TPM gives it: empty
        // nonce, continueSession set, empty hmac.
        let body = response.body
        let parameterSize = Int(UInt32(bigEndianBytes: body[0..<4]))
        bytes += body[6..<4 + parameterSize]
        #expect(Array(body[(4 + parameterSize)...]) == [0, 0, 1, 0, 0])
    }
    return bytes
}

/// The TPMT_PUBLIC at a persistent handle.
func readPublic(_ tpm: VirtualTPM, _ handle: UInt32) throws -> [UInt8] {
    let response = try TPMResponse(tpm.transmit(TPM2Commands.command(.readPublic, handles: [handle])))
    try #require(response.code == .success)
    let body = try response.parameters()
    return Array(body[2..<2 + (Int(body[0]) << 8 | Int(body[1]))])
}

/// A quote of SHA-256 PCRs 0-7 by `key` over `nonce`: TPMS_ATTEST and TPMT_SIGNATURE.
func quote(_ tpm: VirtualTPM, key: UInt32, nonce: [UInt8]) throws -> (attest: [UInt8], signature: [UInt8]) {
    var parameters = ByteWriter()
    parameters.sized16(nonce)
    parameters.u16BigEndian(0x0010)  // inScheme: the key's
    parameters.append([0, 0, 0, 1, 0, 0x0B, 3, 0xFF, 0, 0])
    var command = ByteWriter()
    command.append([0x80, 0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x58])
    command.u32BigEndian(key)
    command.append([0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 0, 0, 0])
    command.append(parameters.bytes)
    var bytes = command.bytes
    bytes.replaceSubrange(2..<6, with: UInt32(bytes.count).bigEndianBytes)
    let response = try TPMResponse(tpm.transmit(bytes))
    try #require(response.code == .success)
    var reader = ByteReader<VTPMError>(try response.parameters(), structure: "quote")
    let attest = try reader.sized16("quoted")
    return (attest, try reader.read(reader.remaining, "signature"))
}

/// The claims' JWK as a TPMPublic-comparable RSA key.
func claimsKey(_ claims: AzureRuntimeClaims, _ kid: String) throws -> TPMPublic.Key {
    let key = try #require(claims.key(kid))
    let exponent = try #require(key.exponent).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    return .rsa(modulus: try #require(key.modulus), exponent: exponent)
}

@Suite("vTPM personality azure")
struct AzurePersonalityTests {
    @Test("NV 0x01400001 is 2600 bytes and reassembles to an HCL report bound to its claims and the AK")
    func report() throws {
        try withPersonality(try azurePersonality()) { tpm in
            #expect(try nvSize(tpm, index: AzureHCLReport.nvIndex) == 2600)
            let bytes = try readReport(tpm)
            #expect(bytes.count == 2600)
            #expect(try readReport(tpm, auth: AzureHCLReport.nvIndex) == bytes)
            let report = try AzureHCLReport(parsing: bytes)
            let hardware = try SNPReport.parse(report.hardwareReport)
            #expect(hardware.reportData == report.expectedReportData)
            let verifier = try EvidenceVerifier(trustAnchorPEM: try SNPAuthority(seed: "tsmfs").rootCertificatePEM)
            _ = try verifier.verifySNPReport(report.hardwareReport, auxblob: try SNPAuthority(seed: "tsmfs").snpAuxblob)
            let claims = try AzureRuntimeClaims(parsing: report.claims)
            let ak = try TPMPublic(parsing: try readPublic(tpm, AzurePersonality.attestationKeyHandle))
            #expect(ak.key == (try claimsKey(claims, "HCLAkPub")))
            #expect(ak.attributes & TPMPublic.restricted != 0 && ak.scheme == TPMAlgorithmID.rsassa)
            let ek = try TPMPublic(parsing: try tpm.endorsementKeyPublic())
            #expect(ek.key == (try claimsKey(claims, "HCLEkPub")))
            #expect(claims.userData == String(repeating: "0", count: 128))

            let nonce = Array("azure nonce".utf8)
            let quoted = try quote(tpm, key: AzurePersonality.attestationKeyHandle, nonce: nonce)
            var pcrs: [Int: [UInt8]] = [:]
            for index in 0..<8 { pcrs[index] = try tpm.readPCR(bank: .sha256, index: index) }
            _ = try TPMQuoteCheck.verify(
                quote: quoted.attest, signature: quoted.signature, key: ak, nonce: nonce,
                pcrs: [TPMAlgorithmID.sha256: pcrs])
        }
    }

    @Test("NV_ReadPublic gives the index's public area and Name; reads past the end and too large are refused")
    func limits() throws {
        try withPersonality(try azurePersonality()) { tpm in
            let response = try TPMResponse(
                tpm.transmit(TPM2Commands.command(.nvReadPublic, handles: [AzureHCLReport.nvIndex])))
            let body = response.body
            let area = Array(body[2..<16])
            #expect(Array(area[6..<10]) == [0x62, 0x07, 0x00, 0x01])
            #expect(Array(body[18...]) == [0, 0x0B] + Array(SHA256.hash(data: area)))
            #expect(Array(body[18...]) == AzurePersonality.reportIndexName)
            // swtpm's placeholder at the same handle reports the same attributes.
            let placeholder = try TPMResponse(
                tpm.forward(TPM2Commands.command(.nvReadPublic, handles: [AzureHCLReport.nvIndex])))
            #expect(Array(placeholder.body[8..<12]) == Array(area[6..<10]))
            let owner = TPM2Commands.ownerHierarchy
            let index = AzureHCLReport.nvIndex
            #expect(try nvReadCommand(tpm, auth: owner, index: index, size: 1000, offset: 2000).code.rawValue == 0x146)
            #expect(try nvReadCommand(tpm, auth: owner, index: index, size: 1, offset: 2601).code.rawValue == 0x2C4)
            #expect(try nvReadCommand(tpm, auth: owner, index: index, size: 0, offset: 2600).code == .success)
            // Larger than TPM_PT_NV_BUFFER_MAX: the same code swtpm gives for its own EK certificate index.
            let ekCertificate = try nvReadCommand(tpm, auth: owner, index: 0x01C0_0002, size: 1025, offset: 0)
            #expect(ekCertificate.code.rawValue == 0x1C4)
            #expect(try nvReadCommand(tpm, auth: owner, index: index, size: 1025, offset: 0).code == ekCertificate.code)
            // Each refusal, and their order, as swtpm gives them for the EK certificate index it holds.
            let ekSize = try nvSize(tpm, index: 0x01C0_0002)
            for (size, theirOffset, ourOffset) in [
                (1025, ekSize + 100, 2700), (1, ekSize + 100, 2700), (1000, ekSize - 10, 2590),
            ] {
                let theirs = try nvReadCommand(tpm, auth: owner, index: 0x01C0_0002, size: size, offset: theirOffset)
                let ours = try nvReadCommand(tpm, auth: owner, index: index, size: size, offset: ourOffset)
                #expect(theirs.code == ours.code, "size \(size)")
            }
            // Authorisation is swtpm's: the endorsement hierarchy may not read this index.
            let refused = try nvReadCommand(tpm, auth: 0x4000_000B, index: index, size: 1, offset: 0)
            #expect(refused.code != .success)
            // An HMAC session (any non-password handle) is refused with TPM_RC_AUTH_UNAVAILABLE.
            var hmac = TPM2Commands.command(.nvRead, handles: [owner, index], passwords: 1, parameters: [0, 1, 0, 0])
            hmac.replaceSubrange(22..<26, with: UInt32(0x0200_0000).bigEndianBytes)
            #expect(try TPMResponse(tpm.transmit(hmac)).code.rawValue == 0x12F)
            // An owner password: an empty one is refused as swtpm refuses it for its own index; index auth still reads.
            // TPM2_HierarchyChangeAuth (0x0129; no TPM2Commands.Code): the owner password becomes "pw".
            var changeAuth = TPM2Commands.command(
                .nvRead, handles: [owner], passwords: 1, parameters: [0, 2, 0x70, 0x77])
            changeAuth.replaceSubrange(6..<10, with: UInt32(0x0129).bigEndianBytes)
            #expect(try TPMResponse(tpm.transmit(changeAuth)).code == .success)
            let theirs = try nvReadCommand(tpm, auth: owner, index: 0x01C0_0002, size: 1, offset: 0)
            #expect(theirs.code != .success)
            #expect(try nvReadCommand(tpm, auth: owner, index: index, size: 1, offset: 0).code == theirs.code)
            #expect(try nvReadCommand(tpm, auth: index, index: index, size: 1, offset: 0).code == .success)
        }
    }

    @Test("Writing NV 0x01400002 makes a fresh report carrying the user data; it survives a restart")
    func userDataAndRestart() throws {
        let parent = try makeTemporaryDirectory("tsmfs-vtpm")
        defer { removeTree(parent) }
        let data = (0..<64).map { UInt8($0) }
        let first = try withPersonality(try azurePersonality(), directory: parent) { tpm in
            let before = try AzureHCLReport(parsing: try readReport(tpm))
            let write = TPM2Commands.command(
                .nvWrite, handles: [TPM2Commands.ownerHierarchy, AzureHCLReport.userDataNVIndex], passwords: 1,
                parameters: [0, 64] + data + [0, 0])
            #expect(try TPMResponse(tpm.transmit(write)).code == .success)
            let after = try AzureHCLReport(parsing: try readReport(tpm))
            #expect(after.claims != before.claims)
            #expect(try AzureRuntimeClaims(parsing: after.claims).userData == Hex.encode(data).uppercased())
            #expect(try SNPReport.parse(after.hardwareReport).reportData == after.expectedReportData)
            // A partial write changes those bytes only.
            let partial = TPM2Commands.command(
                .nvWrite, handles: [AzureHCLReport.userDataNVIndex, AzureHCLReport.userDataNVIndex], passwords: 1,
                parameters: [0, 2, 0xAA, 0xBB, 0, 62])
            #expect(try TPMResponse(tpm.transmit(partial)).code == .success)
            let patched = try AzureHCLReport(parsing: try readReport(tpm))
            let expected = Hex.encode(data[0..<62] + [0xAA, 0xBB]).uppercased()
            #expect(try AzureRuntimeClaims(parsing: patched.claims).userData == expected)
            let certificate = try Certificate(
                derEncoded: try nvRead(
                    tpm, index: AzurePersonality.attestationKeyCertificateIndex,
                    size: try nvSize(tpm, index: AzurePersonality.attestationKeyCertificateIndex)))
            return (
                try readPublic(tpm, AzurePersonality.attestationKeyHandle), certificate,
                try AzureHCLReport(parsing: try readReport(tpm)).claims
            )
        }
        try withPersonality(try azurePersonality(), directory: parent) { tpm in
            #expect(try readPublic(tpm, AzurePersonality.attestationKeyHandle) == first.0)
            let claims = try AzureHCLReport(parsing: try readReport(tpm)).claims
            #expect(claims == first.2)
            try expectCertificate(first.1, cloud: .azure, key: try TPMPublic(parsing: first.0))
        }
    }
}

/// `certificate` chains to the seed's mock `cloud` CA and certifies `key`.
func expectCertificate(_ certificate: Certificate, cloud: TPMAKAuthority.Cloud, key: TPMPublic) throws {
    let authority = try TPMAKAuthority(cloud: cloud, seed: "tsmfs")
    let root = try Certificate(derEncoded: authority.rootCertificateDER)
    let intermediate = try Certificate(derEncoded: authority.intermediateCertificateDER)
    #expect(root.publicKey.isValidSignature(intermediate.signature, for: intermediate))
    #expect(intermediate.publicKey.isValidSignature(certificate.signature, for: certificate))
    #expect(certificate.issuer == intermediate.subject)
    let other = try Certificate(derEncoded: try TPMAKAuthority(cloud: cloud, seed: "other").intermediateCertificateDER)
    #expect(!other.publicKey.isValidSignature(certificate.signature, for: certificate))
    switch key.key {
    case .rsa(let modulus, _):
        // The SubjectPublicKeyInfo's RSAPublicKey ends with the modulus then e = 65537.
        let spki = Array(certificate.publicKey.subjectPublicKeyInfoBytes)
        #expect(Array(spki.suffix(modulus.count + 5)) == modulus + [0x02, 0x03, 1, 0, 1])
    case .ecc(_, let x, let y):
        #expect(certificate.publicKey == Certificate.PublicKey(try P256.Signing.PublicKey(rawRepresentation: x + y)))
    }
}
