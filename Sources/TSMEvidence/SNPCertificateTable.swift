import TSMBytes

/// A GUID as the GHCB certificate table stores it: 16 bytes in the order the textual form
/// prints them (RFC 4122 order), which is what AMD's sev-tool (libuuid `uuid_parse`) and
/// go-sev-guest (`uuid.Parse` bytes compared directly) read and write — not the mixed-endian
/// EFI `guid_t` order.
public struct GUID: Sendable, Hashable, CustomStringConvertible {
    /// The 16 bytes in table (textual) order.
    public let bytes: [UInt8]

    /// A GUID from its textual form, 8-4-4-4-12 hex digits; nil for anything else.
    public init?(_ text: String) {
        guard let bytes = UUIDText.parse(text) else { return nil }
        self.bytes = bytes
    }

    /// A GUID from 16 bytes in table order.
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// The same GUID with its first three groups byte-swapped (the EFI `guid_t` order).
    var mixedEndian: GUID {
        GUID(bytes: UUIDText.efiOrder(bytes))
    }

    /// The textual form, lowercase.
    public var description: String {
        UUIDText.format(bytes)
    }

    /// The GHCB specification's certificate GUIDs (ABI.md 4.6): VCEK, VLEK, ASK, ARK.
    public static let vcek = GUID(bytes: Hex.decode("63da758de6644564adc5f4b93be8accd") ?? [])
    /// VLEK: a Versioned Loaded Endorsement Key certificate.
    public static let vlek = GUID(bytes: Hex.decode("a8074bc2a25a483eaae639c045a0b8a1") ?? [])
    /// ASK: the AMD SEV signing key certificate (the intermediate).
    public static let ask = GUID(bytes: Hex.decode("4ab7b379bbac4fe4a02f05aef327c782") ?? [])
    /// ARK: the AMD root key certificate.
    public static let ark = GUID(bytes: Hex.decode("c0b406a4a803495297433fb6014cd0ae") ?? [])
}

/// The SEV `auxblob`: the GHCB certificate table (GHCB spec 4.1.8.1, ABI.md 4.6). 24-byte
/// entries (GUID, u32 offset, u32 length) ending with an all-zero entry, then the DER
/// certificates at the offsets, which count from the start of the table.
public struct SNPCertificateTable: Sendable, Equatable {
    /// Bytes of one entry: GUID (16), offset (u32), length (u32).
    public static let entrySize = 24

    /// The certificates in table order, each under its GUID.
    public var entries: [(guid: GUID, data: [UInt8])]

    /// A table of `entries`, written in this order.
    public init(entries: [(guid: GUID, data: [UInt8])]) { self.entries = entries }

    /// Same GUIDs and certificates in the same order.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.guid == $1.guid && $0.data == $1.data }
    }

    /// The certificate under `guid`. A table written with mixed-endian GUIDs is read as well.
    public func certificate(_ guid: GUID) -> [UInt8]? {
        entries.first { $0.guid == guid || $0.guid == guid.mixedEndian }?.data
    }

    /// The table, its terminator, then each certificate in entry order.
    public func encoded() throws(EvidenceError) -> [UInt8] {
        let headerSize = (entries.count + 1) * Self.entrySize
        var header = ByteWriter()
        var data = ByteWriter()
        for entry in entries {
            try requireSize(entry.guid.bytes, 16, "certificate table GUID")
            let offset = headerSize + data.bytes.count
            guard offset + entry.data.count <= Int(UInt32.max) else {
                throw .invalidInput(field: "certificate table", reason: "larger than a u32 offset reaches")
            }
            header.append(entry.guid.bytes)
            header.u32(UInt32(offset))
            header.u32(UInt32(entry.data.count))
            data.append(entry.data)
        }
        header.zeros(Self.entrySize)
        return header.bytes + data.bytes
    }

    /// A larger table is refused before it is read: the kernel's certificate buffer is at most
    /// `SEV_FW_BLOB_MAX_SIZE` (16 KiB), and the auxblob is that buffer cut after its last entry.
    public static let maxSize = 64 * 1024
    /// More entries are refused: a host supplies VCEK or VLEK, ASK, ARK and perhaps a CRL.
    public static let maxEntries = 32

    /// Parses a certificate table. Refuses, before copying any certificate, a table of more than
    /// ``maxSize`` bytes or ``maxEntries`` entries (`malformed`), an entry that points into the
    /// table itself, overlaps another or repeats a GUID (`malformed`), and one whose data lies past
    /// the end (`truncated`). So the certificates copied never add up to more than the table.
    public static func parse(_ bytes: [UInt8]) throws(EvidenceError) -> SNPCertificateTable {
        guard bytes.count <= maxSize else {
            throw .malformed(
                structure: "certificate table", reason: "\(bytes.count) bytes, more than the limit of \(maxSize)")
        }
        var reader = ByteReader(bytes, structure: "certificate table")
        var raw: [(guid: GUID, offset: Int, length: Int)] = []
        while true {
            let index = raw.count
            let guid = GUID(bytes: try reader.read(16, "entry \(index) GUID"))
            let offset = Int(try reader.u32("entry \(index) offset"))
            let length = Int(try reader.u32("entry \(index) length"))
            if offset == 0, length == 0, guid.bytes.allSatisfy({ $0 == 0 }) { break }
            guard index < maxEntries else {
                throw .malformed(
                    structure: "certificate table",
                    reason: "more than \(maxEntries) entries before the all-zero terminator (the limit)")
            }
            raw.append((guid, offset, length))
        }
        try checkEntries(raw, headerSize: reader.offset, total: bytes.count)
        var entries: [(guid: GUID, data: [UInt8])] = []
        for entry in raw {
            entries.append((entry.guid, Array(bytes[entry.offset..<entry.offset + entry.length])))
        }
        return SNPCertificateTable(entries: entries)
    }

    /// Every entry's data lies after the table and within `total` bytes, no two overlap, and no
    /// GUID (in either byte order) appears twice.
    static func checkEntries(_ raw: [(guid: GUID, offset: Int, length: Int)], headerSize: Int, total: Int)
        throws(EvidenceError)
    {
        let structure = "certificate table"
        for (index, entry) in raw.enumerated() {
            guard entry.offset >= headerSize else {
                throw .malformed(
                    structure: structure,
                    reason: "entry \(index) (\(entry.guid)) points at offset \(entry.offset), inside the "
                        + "\(headerSize)-byte table")
            }
            guard entry.offset + entry.length <= total else {
                throw .truncated(
                    structure: structure, field: "entry \(index) (\(entry.guid)) data", offset: entry.offset,
                    needed: entry.length, available: max(0, total - entry.offset))
            }
            if let first = raw.prefix(index).firstIndex(where: {
                $0.guid == entry.guid || $0.guid == entry.guid.mixedEndian
            }) {
                throw .malformed(
                    structure: structure, reason: "entry \(index) repeats the GUID \(entry.guid) of entry \(first)")
            }
        }
        let sorted = raw.indices.filter { raw[$0].length > 0 }.sorted { raw[$0].offset < raw[$1].offset }
        for (previous, next) in zip(sorted, sorted.dropFirst())
        where raw[previous].offset + raw[previous].length > raw[next].offset {
            throw .malformed(
                structure: structure,
                reason: "entry \(next) (bytes \(raw[next].offset)..<\(raw[next].offset + raw[next].length)) overlaps "
                    + "entry \(previous) (bytes \(raw[previous].offset)..<"
                    + "\(raw[previous].offset + raw[previous].length))"
            )
        }
    }
}
