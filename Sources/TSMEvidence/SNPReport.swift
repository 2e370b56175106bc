import TSMBytes

/// The SEV-SNP ATTESTATION_REPORT, the `sev_guest` outblob (ABI.md 4.6; SEV-SNP ABI spec table
/// "ATTESTATION_REPORT structure"; go-sev-guest abi.go): 1184 little-endian bytes, signed over
/// bytes 0..<0x2A0 with ECDSA P-384/SHA-384, the signature at 0x2A0 as R and S of 72 bytes
/// each, little-endian and zero-padded.
public struct SNPReport: Sendable, Equatable {
    /// Bytes in a report.
    public static let size = 0x4A0
    /// Where SIGNATURE starts.
    public static let signatureOffset = 0x2A0
    /// What the signature covers.
    public static let signedRange = 0..<0x2A0
    /// Bytes of each of R and S in the signature field.
    public static let signatureComponentSize = 72
    /// SIGNATURE_ALGO 1: ECDSA P-384 with SHA-384.
    public static let ecdsaP384SHA384: UInt32 = 1

    /// Field offsets in the report, as ABI.md 4.6 lists them.
    public enum Offset {
        public static let version = 0x00, guestSVN = 0x04, policy = 0x08, familyID = 0x10, imageID = 0x20
        public static let vmpl = 0x30, signatureAlgorithm = 0x34, currentTCB = 0x38, platformInfo = 0x40
        public static let signerInfo = 0x48, reportData = 0x50, measurement = 0x90, hostData = 0xC0
        public static let idKeyDigest = 0xE0, authorKeyDigest = 0x110, reportID = 0x140, reportIDMA = 0x160
        public static let reportedTCB = 0x180, chipID = 0x1A0, committedTCB = 0x1E0, currentVersion = 0x1E8
        public static let committedVersion = 0x1EC, launchTCB = 0x1F0, signature = 0x2A0
    }

    /// VERSION: 2 here; the mock platform's firmware writes 3 (newer firmware writes 5).
    public var version: UInt32 = 2
    /// GUEST_SVN: the guest's security version from its ID block.
    public var guestSVN: UInt32 = 0
    /// POLICY: bits 0-7 ABI minor, 8-15 ABI major, 16 SMT allowed, 17 reserved (must be 1),
    /// 18 migration agent, 19 debug, 20 single socket.
    public var policy: UInt64 = 0x30000
    /// FAMILY_ID (16) and IMAGE_ID (16): from the guest's ID block.
    public var familyID = [UInt8](repeating: 0, count: 16)
    public var imageID = [UInt8](repeating: 0, count: 16)
    /// VMPL: the privilege level requested (configfs-tsm `privlevel`).
    public var vmpl: UInt32 = 0
    /// SIGNATURE_ALGO: 1, ECDSA P-384 with SHA-384.
    public var signatureAlgorithm: UInt32 = SNPReport.ecdsaP384SHA384
    /// CURRENT_TCB: the platform's TCB now.
    public var currentTCB = SNPTCB(rawValue: 0)
    /// PLATFORM_INFO: bit 0 SMT enabled, bit 1 TSME enabled.
    public var platformInfo: UInt64 = 0
    /// Signer info: bit 0 author key enabled, bit 1 mask chip key, bits 2-4 signing key
    /// (0 VCEK, 1 VLEK, 7 none).
    public var signerInfo: UInt32 = 0
    /// REPORT_DATA (64): the configfs-tsm inblob.
    public var reportData = [UInt8](repeating: 0, count: 64)
    /// MEASUREMENT (48): the launch digest of the guest's initial memory and VMSAs.
    public var measurement = [UInt8](repeating: 0, count: 48)
    /// HOST_DATA (32): data the host supplied at launch.
    public var hostData = [UInt8](repeating: 0, count: 32)
    /// ID_KEY_DIGEST (48) and AUTHOR_KEY_DIGEST (48): SHA-384 of the ID block's keys.
    public var idKeyDigest = [UInt8](repeating: 0, count: 48)
    public var authorKeyDigest = [UInt8](repeating: 0, count: 48)
    /// REPORT_ID (32) and REPORT_ID_MA (32): the guest's and its migration agent's report IDs.
    public var reportID = [UInt8](repeating: 0, count: 32)
    public var reportIDMA = [UInt8](repeating: 0, count: 32)
    /// REPORTED_TCB: the TCB the VCEK was derived for.
    public var reportedTCB = SNPTCB(rawValue: 0)
    /// CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP at 0x188-0x18A (version 3 and later; zero in 2).
    public var cpuidFamily: UInt8 = 0
    public var cpuidModel: UInt8 = 0
    public var cpuidStepping: UInt8 = 0
    /// CHIP_ID (64): the chip's identity, zero when MASK_CHIP_KEY is set.
    public var chipID = [UInt8](repeating: 0, count: 64)
    /// COMMITTED_TCB: the lowest TCB the firmware may roll back to.
    public var committedTCB = SNPTCB(rawValue: 0)
    /// CURRENT and COMMITTED firmware build, minor, major (0x1E8 and 0x1EC).
    public var currentVersion = SNPFirmwareVersion(major: 0, minor: 0, build: 0)
    public var committedVersion = SNPFirmwareVersion(major: 0, minor: 0, build: 0)
    /// LAUNCH_TCB: the TCB when the guest launched.
    public var launchTCB = SNPTCB(rawValue: 0)
    /// The 512-byte SIGNATURE field, raw.
    public var signature = [UInt8](repeating: 0, count: 512)

    /// An all-zero version 2 report (policy 0x30000); set fields, then have an authority sign it.
    public init() {}

    /// A report of a guest's launch values and request, with the platform's fields filled in.
    public init(
        reportData: [UInt8], vmpl: UInt32, measurement: [UInt8], hostData: [UInt8], platform: SNPPlatform,
        policy: UInt64 = 0x30000, guestSVN: UInt32 = 0,
        familyID: [UInt8] = [UInt8](repeating: 0, count: 16), imageID: [UInt8] = [UInt8](repeating: 0, count: 16),
        idKeyDigest: [UInt8] = [UInt8](repeating: 0, count: 48),
        authorKeyDigest: [UInt8] = [UInt8](repeating: 0, count: 48),
        reportID: [UInt8] = [UInt8](repeating: 0, count: 32)
    ) throws(EvidenceError) {
        self.reportData = reportData
        self.vmpl = vmpl
        self.measurement = measurement
        self.hostData = hostData
        self.policy = policy
        self.guestSVN = guestSVN
        self.familyID = familyID
        self.imageID = imageID
        self.idKeyDigest = idKeyDigest
        self.authorKeyDigest = authorKeyDigest
        self.reportID = reportID
        chipID = platform.chipID
        version = platform.reportVersion
        if version >= 3 {
            (cpuidFamily, cpuidModel, cpuidStepping) = platform.cpuid
        }
        currentTCB = platform.tcb
        reportedTCB = platform.tcb
        committedTCB = platform.tcb
        launchTCB = platform.tcb
        platformInfo = platform.platformInfo
        currentVersion = platform.firmware
        committedVersion = platform.firmware
        try validate()
    }

    /// SIGNING_KEY, bits 2-4 of signer info: 0 VCEK, 1 VLEK, 7 none.
    public var signingKey: UInt32 { (signerInfo >> 2) & 7 }
    /// AUTHOR_KEY_EN, bit 0: the ID block came with an author key, whose digest is AUTHOR_KEY_DIGEST.
    public var authorKeyEnabled: Bool { signerInfo & 1 != 0 }
    /// MASK_CHIP_KEY, bit 1: CHIP_ID is zero.
    public var maskChipKey: Bool { signerInfo & 2 != 0 }

    func validate() throws(EvidenceError) {
        try requireSize(familyID, 16, "FAMILY_ID")
        try requireSize(imageID, 16, "IMAGE_ID")
        try requireSize(reportData, 64, "REPORT_DATA")
        try requireSize(measurement, 48, "MEASUREMENT")
        try requireSize(hostData, 32, "HOST_DATA")
        try requireSize(idKeyDigest, 48, "ID_KEY_DIGEST")
        try requireSize(authorKeyDigest, 48, "AUTHOR_KEY_DIGEST")
        try requireSize(reportID, 32, "REPORT_ID")
        try requireSize(reportIDMA, 32, "REPORT_ID_MA")
        try requireSize(chipID, 64, "CHIP_ID")
        try requireSize(signature, 512, "SIGNATURE")
    }

    /// Bytes 0..<0x2A0, the part the signature covers; reserved bytes are zero.
    public func signedBytes() throws(EvidenceError) -> [UInt8] {
        try validate()
        var writer = ByteWriter()
        writer.u32(version)
        writer.u32(guestSVN)
        writer.u64(policy)
        writer.append(familyID)
        writer.append(imageID)
        writer.u32(vmpl)
        writer.u32(signatureAlgorithm)
        writer.u64(currentTCB.rawValue)
        writer.u64(platformInfo)
        writer.u32(signerInfo)
        writer.zeros(4)
        writer.append(reportData)
        writer.append(measurement)
        writer.append(hostData)
        writer.append(idKeyDigest)
        writer.append(authorKeyDigest)
        writer.append(reportID)
        writer.append(reportIDMA)
        writer.u64(reportedTCB.rawValue)
        writer.append([cpuidFamily, cpuidModel, cpuidStepping])
        writer.zeros(21)
        writer.append(chipID)
        writer.u64(committedTCB.rawValue)
        for version in [currentVersion, committedVersion] {
            writer.append([version.build, version.minor, version.major, 0])
        }
        writer.u64(launchTCB.rawValue)
        writer.zeros(Self.signatureOffset - writer.bytes.count)
        return writer.bytes
    }

    /// The whole 1184-byte report.
    public func encoded() throws(EvidenceError) -> [UInt8] {
        try signedBytes() + signature
    }

    /// The SIGNATURE field of a raw big-endian r‖s P-384 signature: R and S each reversed to
    /// little-endian and zero-padded to 72 bytes, the remaining 368 bytes zero.
    public static func signatureField(rawSignature: [UInt8]) throws(EvidenceError) -> [UInt8] {
        try requireSize(rawSignature, 96, "P-384 signature")
        let pad = [UInt8](repeating: 0, count: signatureComponentSize - 48)
        let r = Array(rawSignature[0..<48].reversed()) + pad
        let s = Array(rawSignature[48..<96].reversed()) + pad
        return r + s + [UInt8](repeating: 0, count: 512 - 2 * signatureComponentSize)
    }

    /// The raw big-endian r‖s of a SIGNATURE field, or `malformed` when R or S has non-zero
    /// bytes beyond the 48 a P-384 scalar fills.
    public static func rawSignature(field: [UInt8]) throws(EvidenceError) -> [UInt8] {
        try requireSize(field, 512, "SIGNATURE")
        let r = field[0..<signatureComponentSize]
        let s = field[signatureComponentSize..<2 * signatureComponentSize]
        guard r.dropFirst(48).allSatisfy({ $0 == 0 }), s.dropFirst(48).allSatisfy({ $0 == 0 }) else {
            throw .malformed(structure: "report", reason: "signature R or S is longer than a P-384 scalar")
        }
        return Array(r.prefix(48).reversed()) + Array(s.prefix(48).reversed())
    }
}
