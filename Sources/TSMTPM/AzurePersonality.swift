import Crypto
import Synchronization
import TSMBytes
import TSMEvidence

/// Azure's confidential-VM vTPM (`--vtpm azure`), as its paravisor (the HCL) leaves it and
/// az-cvm-vtpm (kinvolk/azure-cvm-tooling `src/vtpm/mod.rs`) and Microsoft's guest attestation
/// read it: the AK persistent at 0x81000003 (RSA 2048, restricted signing, RSASSA SHA-256), its
/// certificate in NV 0x01C101D0 signed by the seed's mock "Global Virtual TPM CA - 03"
/// (``TPMAKAuthority``, cloud `.azure`); the HCL report (``AzureHCLReport``) at NV 0x01400001,
/// 2,600 bytes, which tsmfs answers itself (swtpm caps an index at 2,048 bytes); NV 0x01400002, 64
/// bytes of user data: a successful TPM2_NV_Write to it makes a fresh report carrying them.
public final class AzurePersonality: VTPMPersonality {
    /// The AK's persistent handle (az-cvm-vtpm `VTPM_AK_HANDLE`).
    public static let attestationKeyHandle: UInt32 = 0x8100_0003
    /// The AK certificate's index.
    public static let attestationKeyCertificateIndex: UInt32 = 0x01C1_01D0
    /// The HCL report's attributes, as a TPM reports them: PPWRITE, PPREAD, OWNERREAD, AUTHREAD,
    /// NO_DA, WRITTEN, PLATFORMCREATE (0x62070001).
    static let reportAttributes =
        PersonalityCommands.NV.readOnlyPlatform & ~PersonalityCommands.NV.writeDefine
        | PersonalityCommands.NV.written
    /// The user-data index's attributes, those `tpm2_nvdefine -C o` gives: OWNERWRITE, AUTHWRITE,
    /// OWNERREAD, AUTHREAD (0x00060006).
    static let userDataAttributes: UInt32 = 0x0006_0006
    static let userDataSize = 64

    /// Makes the hardware report over a 64-byte REPORT_DATA (an SEV-SNP ATTESTATION_REPORT,
    /// 1,184 bytes): the guest's report provider.
    public typealias HardwareReport = @Sendable (_ reportData: [UInt8]) throws -> [UInt8]

    let hardwareReport: HardwareReport
    /// The claims' `vm-configuration.vmUniqueId`.
    public let vmUniqueID: String
    let state = Mutex(State())
    /// The nonceTPM of each unbound, unsalted HMAC session (AzurePersonality+Sessions.swift).
    let sessions = Mutex<[UInt32: [UInt8]]>([:])

    struct State {
        var attestationKey: TPMPublic?
        var endorsementKey: TPMPublic?
        var userData = [UInt8](repeating: 0, count: AzurePersonality.userDataSize)
        /// The index's contents: the encoded report, 2,600 bytes.
        var report: [UInt8] = []
        /// TPM_PT_NV_BUFFER_MAX of the swtpm behind.
        var bufferMax = 1024
    }

    /// `hardwareReport` makes the SNP report of each HCL report; `vmUniqueID` defaults to a UUID
    /// derived from the vTPM's seed.
    public init(hardwareReport: @escaping HardwareReport, vmUniqueID: String? = nil) {
        self.hardwareReport = hardwareReport
        self.vmUniqueID = vmUniqueID ?? ""
    }

    /// The claims' vmUniqueId for `seed` when none is given: SHA-256("<seed>/azure vm") as a UUID.
    static func derivedID(seed: String) -> String {
        UUIDText.format(Array(SHA256.hash(data: Array("\(seed)/azure vm".utf8)).prefix(16))).uppercased()
    }

    func identity(_ tpm: VirtualTPM) -> String {
        vmUniqueID.isEmpty ? Self.derivedID(seed: tpm.configuration.seed) : vmUniqueID
    }

    /// The AK (created in the owner hierarchy from go-tpm-tools' RSA AK template and made
    /// persistent, when 0x81000003 is empty), its certificate of this seed, the placeholder swtpm
    /// index at 0x01400001 (1 byte, the report's attributes: so GetCapability lists it and swtpm
    /// checks its authorisation), the user-data index (defined by the owner when missing, its
    /// contents kept), then a fresh report. Throws `.tpm`, `.certificate`, or `.provisioning` when
    /// the hardware report cannot be made.
    public func provision(_ tpm: VirtualTPM) throws(VTPMError) {
        let handle = Self.attestationKeyHandle
        if try !PersonalityCommands.exists(tpm, handle: handle) {
            let created = try PersonalityCommands.createPrimary(
                tpm, hierarchy: TPM2Commands.ownerHierarchy, template: TPMTemplates.attestationKeyRSA)
            try PersonalityCommands.run(
                tpm,
                PersonalityCommands.command(
                    PersonalityCommands.evictControl, handles: [TPM2Commands.ownerHierarchy, created.handle],
                    passwords: 1, parameters: handle.bigEndianBytes),
                "TPM2_EvictControl(0x81000003)")
            try PersonalityCommands.flush(tpm, handle: created.handle)
        }
        let ak = try PersonalityCommands.parsedPublic(
            PersonalityCommands.readPublic(tpm, handle: handle), what: "the AK at 0x81000003")
        let ek = try PersonalityCommands.parsedPublic(tpm.endorsementKeyPublic(), what: "the EK at 0x81010001")
        let certificate: [UInt8]
        do {
            certificate = try TPMAKAuthority(cloud: .azure, seed: tpm.configuration.seed)
                .akCertificate(for: ak, subject: identity(tpm))
        } catch {
            throw .certificate(role: "AK", reason: "\(error)")
        }
        try PersonalityCommands.ensureIndex(
            tpm, index: Self.attestationKeyCertificateIndex, data: certificate,
            attributes: PersonalityCommands.NV.readOnlyPlatform)
        try PersonalityCommands.ensureIndex(
            tpm, index: AzureHCLReport.nvIndex, data: [0],
            attributes: Self.reportAttributes & ~PersonalityCommands.NV.written, lock: false)
        let userData = try ensureUserDataIndex(tpm)
        _ = try tpm.commandAttributeTable()  // the handle counts followSessions needs
        sessions.withLock { $0 = [:] }  // a start or a reboot flushed every session
        let properties = try TPM2Commands.properties(
            tpm.forward(TPM2Commands.getCapability(6, property: 0x12C, count: 1)))
        state.withLock {
            $0.attestationKey = ak
            $0.endorsementKey = ek
            $0.userData = userData
            $0.bufferMax = Int(properties[0x12C] ?? 1024)
        }
        do {
            try refresh(tpm)
        } catch {
            throw .provisioning(reason: "the Azure HCL report: \(error)")
        }
        tpm.logger.info("vTPM: Azure AK, AK certificate and HCL report in place")
    }

    /// Defines 0x01400002 when missing; its 64 bytes when written, zeros otherwise.
    func ensureUserDataIndex(_ tpm: VirtualTPM) throws(VTPMError) -> [UInt8] {
        let index = AzureHCLReport.userDataNVIndex
        let zeros = [UInt8](repeating: 0, count: Self.userDataSize)
        let nvPublic = try TPMResponse(
            tpm.forward(PersonalityCommands.command(PersonalityCommands.nvReadPublic, handles: [index])))
        guard nvPublic.code != .success else {
            return try PersonalityCommands.read(tpm, index: index, size: Self.userDataSize, authHandle: index) ?? zeros
        }
        var define = ByteWriter()
        define.u16BigEndian(0)
        define.sized16(
            PersonalityCommands.nvPublicArea(index: index, attributes: Self.userDataAttributes, size: Self.userDataSize)
        )
        try PersonalityCommands.run(
            tpm,
            PersonalityCommands.command(
                PersonalityCommands.nvDefineSpace, handles: [TPM2Commands.ownerHierarchy], passwords: 1,
                parameters: define.bytes),
            "NV 0x01400002 DefineSpace")
        return zeros
    }

    /// Makes the report anew from the keys and user data (as the paravisor does at boot and after
    /// a user-data write).
    /// Made under the state's lock, so that of two writes in a row the last report is made from
    /// the last user data (readers wait for the few milliseconds of one hardware report).
    func refresh(_ tpm: VirtualTPM) throws {
        let identity = identity(tpm)
        let hardwareReport = hardwareReport
        try state.withLock { state in
            guard let ak = state.attestationKey, let ek = state.endorsementKey else { throw VTPMError.stopped }
            let claims = AzureRuntimeClaims(
                keys: [
                    try Self.jwk(ak, kid: AzureRuntimeClaims.attestationKeyID, operation: "sign"),
                    try Self.jwk(ek, kid: AzureRuntimeClaims.endorsementKeyID, operation: "encrypt"),
                ], vmConfiguration: .init(vmUniqueID: identity), userData: state.userData
            ).encoded()
            let hardware = try hardwareReport(AzureHCLReport.reportData(claims: claims))
            state.report = try AzureHCLReport(reportType: .snp, hardwareReport: hardware, claims: claims).encoded()
        }
    }

    /// An RSA key of the TPM as a claims JWK.
    static func jwk(_ key: TPMPublic, kid: String, operation: String) throws(VTPMError) -> AzureRuntimeClaims.Key {
        guard case .rsa(let modulus, let exponent) = key.key else {
            throw .responseMalformed(reason: "\(kid) is not an RSA key")
        }
        return AzureRuntimeClaims.Key(
            kid: kid, operation: operation, modulus: modulus, exponent: Array(exponent.bigEndianBytes.drop { $0 == 0 }))
    }

    /// The report's NV_ReadPublic and NV_Read, answered (AzurePersonality+Report.swift).
    public func answer(_ command: [UInt8], tpm: VirtualTPM) throws(VTPMError) -> [UInt8]? {
        guard command.count >= 14 else { return nil }
        let code = UInt32(bigEndianBytes: command[6..<10])
        let handle = UInt32(bigEndianBytes: command[10..<14])
        if code == PersonalityCommands.nvReadPublic, handle == AzureHCLReport.nvIndex {
            return answerReadPublic(command)
        }
        if code == PersonalityCommands.nvRead, command.count >= 18,
            UInt32(bigEndianBytes: command[14..<18]) == AzureHCLReport.nvIndex
        {
            return try answerRead(command, tpm: tpm)
        }
        return nil
    }

    /// After a successful TPM2_NV_Write to 0x01400002: the user data are the index's 64 bytes read
    /// back with its own (empty) authorisation (so a write under parameter encryption counts too);
    /// when that read is refused (its auth changed, a redefinition of another size), the command's
    /// data at its offset. Then a fresh report. A report that cannot be made is logged; the last
    /// one stays.
    public func observe(_ command: [UInt8], response: [UInt8], tpm: VirtualTPM) {
        followSessions(command, response: response, tpm: tpm)
        let index = AzureHCLReport.userDataNVIndex
        guard command.count >= 18, UInt32(bigEndianBytes: command[6..<10]) == PersonalityCommands.nvWrite,
            UInt32(bigEndianBytes: command[14..<18]) == index, (try? TPMResponse(response))?.code == .success
        else { return }
        if let stored = try? PersonalityCommands.read(tpm, index: index, size: Self.userDataSize, authHandle: index) {
            state.withLock { $0.userData = stored }
        } else if let write = Self.writeParameters(command) {
            state.withLock { state in
                for (position, byte) in write.data.enumerated() where write.offset + position < Self.userDataSize {
                    state.userData[write.offset + position] = byte
                }
            }
        }
        do {
            try refresh(tpm)
            tpm.logger.info("vTPM: a fresh Azure HCL report with the user data written to 0x01400002")
        } catch {
            tpm.logger.error("vTPM: the Azure HCL report could not be made anew", metadata: ["error": "\(error)"])
        }
    }

    /// An NV_Write command's data and offset (after the two handles and the authorisation area).
    static func writeParameters(_ command: [UInt8]) -> (data: [UInt8], offset: Int)? {
        var reader = ByteReader<VTPMError>(command, structure: "TPM2_NV_Write", offset: 18)
        guard let authSize = try? reader.u32BigEndian("authorizationSize"),
            (try? reader.read(Int(authSize), "authorization")) != nil,
            let data = try? reader.sized16("data"), let offset = try? reader.u16BigEndian("offset")
        else { return nil }
        return (data, Int(offset))
    }

    /// The PEM root of the seed's mock Azure vTPM CA (for `tsmfs trust-anchor`), then the
    /// intermediate that signs the AK certificate.
    public static func certificateAuthorityPEM(seed: String) throws(VTPMError) -> String {
        do {
            let authority = try TPMAKAuthority(cloud: .azure, seed: seed)
            return authority.rootCertificatePEM + authority.intermediateCertificatePEM
        } catch {
            throw .certificate(role: "Azure vTPM CA", reason: "\(error)")
        }
    }
}
