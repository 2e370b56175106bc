import TSMBytes

/// The ACPI Confidential Computing Event Log table, "CCEL" (ACPI 6.5; EDK II's
/// `EFI_ACPI_6_5_CONFIDENTIAL_COMPUTING_EVENT_LOG_TABLE`): the standard 36-byte
/// description header, then CC Type, CC Subtype, a reserved u16, LAML and LASA. 56 bytes.
///
/// Linux serves it at `/sys/firmware/acpi/tables/CCEL` and the log area it points to (LASA, LAML
/// bytes, 0xFF beyond the log) at `/sys/firmware/acpi/tables/data/CCEL`.
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | Signature "CCEL" |
/// | 4 | 4 | Length (56) |
/// | 8 | 1 | Revision (1) |
/// | 9 | 1 | Checksum: all 56 bytes sum to 0 mod 256 |
/// | 10 | 6 | OEM ID |
/// | 16 | 8 | OEM Table ID |
/// | 24 | 4 | OEM Revision |
/// | 28 | 4 | Creator ID |
/// | 32 | 4 | Creator Revision |
/// | 36 | 1 | CC Type (2 = Intel TDX) |
/// | 37 | 1 | CC Subtype |
/// | 38 | 2 | Reserved |
/// | 40 | 8 | LAML: log area minimum length |
/// | 48 | 8 | LASA: log area start address |
public struct CCELTable: Sendable, Equatable {
    /// The table's Length: 56 bytes.
    public static let size = 56
    /// The table's Signature.
    public static let signature: [UInt8] = Array("CCEL".utf8)
    /// `EFI_ACPI_6_5_CONFIDENTIAL_COMPUTING_EVENT_LOG_TABLE_REVISION`.
    public static let currentRevision: UInt8 = 1
    /// CC Type of Intel TDX (`EFI_ACPI_6_5_CC_TYPE_TDX`); 1 is SEV, 3 is CCA.
    public static let tdxType: UInt8 = 2
    /// TDVF's `PcdTcgLogAreaMinLen`: 64 KiB.
    public static let defaultLogAreaLength: UInt64 = 0x1_0000
    /// A guest-physical address below 4 GiB in ACPI NVS, where TDVF allocates the log. tsmfs has
    /// no guest memory behind it: clients read the area from `data/CCEL`.
    public static let defaultLogAreaAddress: UInt64 = 0x7FBF_0000

    /// Revision: 1 in ACPI 6.5.
    public var revision: UInt8
    /// 6 bytes, space-padded as ACPI pads text fields.
    public var oemID: [UInt8]
    /// 8 bytes.
    public var oemTableID: [UInt8]
    /// OEM Revision.
    public var oemRevision: UInt32
    /// 4 bytes.
    public var creatorID: [UInt8]
    /// Creator Revision.
    public var creatorRevision: UInt32
    /// CC Type: 2 for TDX.
    public var ccType: UInt8
    /// CC Subtype: 0 for TDX.
    public var ccSubtype: UInt8
    /// LAML: the size of the log area, which `data/CCEL` serves in full.
    public var logAreaMinimumLength: UInt64
    /// LASA.
    public var logAreaStartAddress: UInt64

    /// tsmfs's table: revision 1, OEM "TSMFS " / "TSMFSLOG" rev 1, creator "TSMF" rev 1, TDX.
    public init(
        logAreaMinimumLength: UInt64 = defaultLogAreaLength, logAreaStartAddress: UInt64 = defaultLogAreaAddress,
        ccType: UInt8 = tdxType, ccSubtype: UInt8 = 0
    ) {
        self.revision = Self.currentRevision
        self.oemID = Self.padded("TSMFS", 6)
        self.oemTableID = Self.padded("TSMFSLOG", 8)
        self.oemRevision = 1
        self.creatorID = Self.padded("TSMF", 4)
        self.creatorRevision = 1
        self.ccType = ccType
        self.ccSubtype = ccSubtype
        self.logAreaMinimumLength = logAreaMinimumLength
        self.logAreaStartAddress = logAreaStartAddress
    }

    /// The 56 table bytes with the checksum that makes them sum to 0 mod 256.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.append(Self.signature)
        writer.u32(UInt32(Self.size))
        writer.u8(revision)
        writer.u8(0)
        writer.append(Self.fit(oemID, 6))
        writer.append(Self.fit(oemTableID, 8))
        writer.u32(oemRevision)
        writer.append(Self.fit(creatorID, 4))
        writer.u32(creatorRevision)
        writer.u8(ccType)
        writer.u8(ccSubtype)
        writer.u16(0)
        writer.u64(logAreaMinimumLength)
        writer.u64(logAreaStartAddress)
        var bytes = writer.bytes
        bytes[Self.checksumOffset] = 0 &- Self.sum(bytes)
        return bytes
    }

    static let checksumOffset = 9

    /// Decodes a table: exactly 56 bytes, signature "CCEL", Length 56, a checksum that holds.
    public init(decoding bytes: [UInt8]) throws(EventLogError) {
        var reader = ByteReader(bytes, structure: "CCEL table")
        guard try reader.read(4, "Signature") == Self.signature else {
            throw .malformed(structure: "CCEL table", offset: 0, reason: "signature is not \"CCEL\"")
        }
        let length = try reader.u32("Length")
        guard length == UInt32(Self.size), bytes.count == Self.size else {
            throw .malformed(
                structure: "CCEL table", offset: 4,
                reason: "Length \(length) with \(bytes.count) bytes; the table is 56")
        }
        guard Self.sum(bytes) == 0 else {
            throw .malformed(
                structure: "CCEL table", offset: Self.checksumOffset,
                reason: "checksum: the bytes sum to \(Self.sum(bytes)), not 0")
        }
        revision = try reader.u8("Revision")
        _ = try reader.u8("Checksum")
        oemID = try reader.read(6, "OEM ID")
        oemTableID = try reader.read(8, "OEM Table ID")
        oemRevision = try reader.u32("OEM Revision")
        creatorID = try reader.read(4, "Creator ID")
        creatorRevision = try reader.u32("Creator Revision")
        ccType = try reader.u8("CC Type")
        ccSubtype = try reader.u8("CC Subtype")
        _ = try reader.u16("Reserved")
        logAreaMinimumLength = try reader.u64("LAML")
        logAreaStartAddress = try reader.u64("LASA")
    }

    /// The log area as `data/CCEL` serves it: `log`, then 0xFF to LAML. The fill after a log that
    /// does not reach LAML is at least 8 bytes, so a reader finds a whole `pcrIndex` and
    /// `eventType` of 0xFFFFFFFF there (cctrusted reads both before it checks for the end).
    public func logArea(_ log: [UInt8]) throws(EventLogError) -> [UInt8] {
        guard logAreaMinimumLength <= Self.maximumLogAreaLength else {
            throw .invalidInput(
                field: "LAML",
                reason: "\(logAreaMinimumLength) bytes is more than tsmfs serves (\(Self.maximumLogAreaLength))")
        }
        let needed = Self.areaLength(for: log.count)
        guard logAreaMinimumLength == UInt64(log.count) || logAreaMinimumLength >= UInt64(needed) else {
            throw .logAreaTooSmall(needed: needed, available: Int(clamping: logAreaMinimumLength))
        }
        return log + [UInt8](repeating: 0xFF, count: Int(logAreaMinimumLength) - log.count)
    }

    /// The largest log area tsmfs builds: 64 MiB.
    public static let maximumLogAreaLength: UInt64 = 64 << 20

    /// The smallest LAML that holds a log of `count` bytes with an end marker after it.
    public static func areaLength(for count: Int) -> Int { count + 8 }

    /// A LAML for a log of `count` bytes: TDVF's 64 KiB, or more in whole 4 KiB pages.
    public static func logAreaLength(for count: Int) -> UInt64 {
        let needed = UInt64(areaLength(for: count))
        return max(defaultLogAreaLength, (needed + 0xFFF) & ~0xFFF)
    }

    static func sum(_ bytes: [UInt8]) -> UInt8 { bytes.reduce(0, &+) }

    static func padded(_ text: String, _ count: Int) -> [UInt8] { fit(Array(text.utf8), count) }

    /// `bytes` cut or space-padded to `count`.
    static func fit(_ bytes: [UInt8], _ count: Int) -> [UInt8] {
        Array(bytes.prefix(count)) + [UInt8](repeating: 0x20, count: max(0, count - bytes.count))
    }
}
