import Crypto

/// A TCB_VERSION (SEV-SNP ABI, Milan/Genoa layout): boot loader SPL in byte 0, TEE SPL in byte 1,
/// SNP SPL in byte 6, microcode SPL in byte 7, bytes 2-5 reserved. Little-endian u64 in reports.
public struct SNPTCB: Sendable, Equatable {
    /// The u64 as the report stores it.
    public var rawValue: UInt64

    /// A TCB from its report u64.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// A TCB from its security patch levels (SPLs).
    public init(bootloader: UInt8, tee: UInt8, snp: UInt8, microcode: UInt8) {
        rawValue = UInt64(bootloader) | UInt64(tee) << 8 | UInt64(snp) << 48 | UInt64(microcode) << 56
    }

    /// The SPLs: boot loader (byte 0), TEE (1), SNP firmware (6), microcode (7).
    public var bootloader: UInt8 { UInt8(truncatingIfNeeded: rawValue) }
    public var tee: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 8) }
    public var snp: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 48) }
    public var microcode: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 56) }
}

/// A firmware version as the report's CURRENT/COMMITTED build, minor, major bytes hold it.
public struct SNPFirmwareVersion: Sendable, Equatable, CustomStringConvertible {
    /// Major (byte 2), minor (byte 1) and build (byte 0) of the 4-byte field.
    public var major: UInt8
    public var minor: UInt8
    public var build: UInt8

    /// A version from its parts.
    public init(major: UInt8, minor: UInt8, build: UInt8) {
        self.major = major
        self.minor = minor
        self.build = build
    }

    /// "major.minor.build".
    public var description: String { "\(major).\(minor).\(build)" }
}

/// What the AMD secure processor, not the guest, puts in a report: the chip's identity, its TCB
/// and firmware version, and the platform flags. The mock VCEK certificate carries the same CHIP_ID
/// and TCB, so a verifier can match report and certificate as it would on real hardware.
public struct SNPPlatform: Sendable, Equatable {
    /// CHIP_ID (64).
    public var chipID: [UInt8]
    /// The TCB reported as current, reported, committed and launch TCB.
    public var tcb: SNPTCB
    /// PLATFORM_INFO: bit 0 SMT enabled, bit 1 TSME enabled.
    public var platformInfo: UInt64
    /// The firmware version reported as current and committed.
    public var firmware: SNPFirmwareVersion
    /// The report VERSION this firmware writes.
    public var reportVersion: UInt32
    /// CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP (report version 3 and later, 0x188-0x18A).
    public var cpuid: (family: UInt8, model: UInt8, stepping: UInt8)

    /// A platform from its values.
    public init(
        chipID: [UInt8], tcb: SNPTCB, platformInfo: UInt64, firmware: SNPFirmwareVersion,
        reportVersion: UInt32 = 3, cpuid: (family: UInt8, model: UInt8, stepping: UInt8) = (0x19, 0x01, 0x00)
    ) {
        self.chipID = chipID
        self.tcb = tcb
        self.platformInfo = platformInfo
        self.firmware = firmware
        self.reportVersion = reportVersion
        self.cpuid = cpuid
    }

    /// Same values.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.chipID == rhs.chipID && lhs.tcb == rhs.tcb && lhs.platformInfo == rhs.platformInfo
            && lhs.firmware == rhs.firmware
            && lhs.reportVersion == rhs.reportVersion && lhs.cpuid == rhs.cpuid
    }

    /// The mock platform of a seed, a Milan-B0 part (CPUID family 0x19, model 0x01, stepping 0)
    /// on SNP firmware 1.55.21, which writes version 3 reports (SEV-SNP ABI 1.55): CHIP_ID =
    /// SHA-512("tsmfs mock chip id " + seed) with a first byte of 0x02 or 0x04 given its top bit
    /// (snpguest reads a hwID starting so as DER), boot loader SPL 4, TEE 0, SNP 22, microcode
    /// 213, SMT enabled.
    public static func mock(seed: String) -> SNPPlatform {
        var chipID = Array(SHA512.hash(data: Array("tsmfs mock chip id \(seed)".utf8)))
        if chipID[0] == 0x02 || chipID[0] == 0x04 { chipID[0] |= 0x80 }
        return SNPPlatform(
            chipID: chipID, tcb: SNPTCB(bootloader: 4, tee: 0, snp: 22, microcode: 213), platformInfo: 1,
            firmware: SNPFirmwareVersion(major: 1, minor: 55, build: 21))
    }
}

/// The report-and-certificates pair a `sev_guest` report instance serves (ABI.md 4.6).
public struct SNPEvidence: Sendable, Equatable {
    /// The 1184-byte ATTESTATION_REPORT: the `outblob`.
    public var report: [UInt8]
    /// The GHCB certificate table with VCEK, ASK and ARK: the `auxblob`.
    public var auxblob: [UInt8]

    /// The pair from its blobs.
    public init(report: [UInt8], auxblob: [UInt8]) {
        self.report = report
        self.auxblob = auxblob
    }
}
