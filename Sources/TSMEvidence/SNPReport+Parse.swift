extension SNPReport {
    /// Parses a 1184-byte ATTESTATION_REPORT. Throws `truncated` for a short report and
    /// `malformed` for a longer one, a version below 2, or a signature algorithm other than 1.
    /// Reserved bytes are not kept (versions 3 and 5 put fields there); the verifier checks the
    /// signature over the raw bytes, never over a re-encoding.
    public static func parse(_ bytes: [UInt8]) throws(EvidenceError) -> SNPReport {
        guard bytes.count <= size else {
            throw .malformed(structure: "report", reason: "\(bytes.count) bytes, an ATTESTATION_REPORT has \(size)")
        }
        var reader = ByteReader(bytes, structure: "report")
        var report = SNPReport()
        report.version = try reader.u32("VERSION")
        report.guestSVN = try reader.u32("GUEST_SVN")
        report.policy = try reader.u64("POLICY")
        report.familyID = try reader.read(16, "FAMILY_ID")
        report.imageID = try reader.read(16, "IMAGE_ID")
        report.vmpl = try reader.u32("VMPL")
        report.signatureAlgorithm = try reader.u32("SIGNATURE_ALGO")
        report.currentTCB = SNPTCB(rawValue: try reader.u64("CURRENT_TCB"))
        report.platformInfo = try reader.u64("PLATFORM_INFO")
        report.signerInfo = try reader.u32("signer info")
        _ = try reader.read(4, "reserved")
        report.reportData = try reader.read(64, "REPORT_DATA")
        report.measurement = try reader.read(48, "MEASUREMENT")
        report.hostData = try reader.read(32, "HOST_DATA")
        report.idKeyDigest = try reader.read(48, "ID_KEY_DIGEST")
        report.authorKeyDigest = try reader.read(48, "AUTHOR_KEY_DIGEST")
        report.reportID = try reader.read(32, "REPORT_ID")
        report.reportIDMA = try reader.read(32, "REPORT_ID_MA")
        report.reportedTCB = SNPTCB(rawValue: try reader.u64("REPORTED_TCB"))
        let cpuid = try reader.read(3, "CPUID")
        (report.cpuidFamily, report.cpuidModel, report.cpuidStepping) = (cpuid[0], cpuid[1], cpuid[2])
        _ = try reader.read(21, "reserved")
        report.chipID = try reader.read(64, "CHIP_ID")
        report.committedTCB = SNPTCB(rawValue: try reader.u64("COMMITTED_TCB"))
        let current = try reader.read(4, "CURRENT version")
        report.currentVersion = SNPFirmwareVersion(major: current[2], minor: current[1], build: current[0])
        let committed = try reader.read(4, "COMMITTED version")
        report.committedVersion = SNPFirmwareVersion(major: committed[2], minor: committed[1], build: committed[0])
        report.launchTCB = SNPTCB(rawValue: try reader.u64("LAUNCH_TCB"))
        _ = try reader.read(signatureOffset - reader.offset, "reserved")
        report.signature = try reader.read(512, "SIGNATURE")

        guard report.version >= 2 else {
            throw .malformed(structure: "report", reason: "VERSION \(report.version), expected 2 or later")
        }
        guard report.signatureAlgorithm == ecdsaP384SHA384 else {
            throw .malformed(
                structure: "report",
                reason: "SIGNATURE_ALGO \(report.signatureAlgorithm), expected 1 (ECDSA P-384 with SHA-384)")
        }
        return report
    }
}
