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

    /// Parses a certificate table. Throws `truncated` when the terminator or a certificate lies
    /// past the end, and `malformed` when an entry points into the table itself.
    public static func parse(_ bytes: [UInt8]) throws(EvidenceError) -> SNPCertificateTable {
        var reader = ByteReader(bytes, structure: "certificate table")
        var raw: [(guid: GUID, offset: Int, length: Int)] = []
        while true {
            let index = raw.count
            let guid = GUID(bytes: try reader.read(16, "entry \(index) GUID"))
            let offset = Int(try reader.u32("entry \(index) offset"))
            let length = Int(try reader.u32("entry \(index) length"))
            if offset == 0, length == 0, guid.bytes.allSatisfy({ $0 == 0 }) { break }
            raw.append((guid, offset, length))
        }
        let headerSize = reader.offset
        var entries: [(guid: GUID, data: [UInt8])] = []
        for (index, entry) in raw.enumerated() {
            guard entry.offset >= headerSize else {
                throw .malformed(
                    structure: "certificate table",
                    reason:
                        """
                        entry \(index) (\(entry.guid)) points at offset \(entry.offset), inside the \
                        \(headerSize)-byte table
                        """
                )
            }
            guard entry.offset <= bytes.count else {
                throw .truncated(
                    structure: "certificate table", field: "entry \(index) (\(entry.guid)) data",
                    offset: entry.offset, needed: entry.length, available: 0)
            }
            var certificate = ByteReader(bytes, structure: "certificate table", offset: entry.offset)
            entries.append((entry.guid, try certificate.read(entry.length, "entry \(index) (\(entry.guid)) data")))
        }
        return SNPCertificateTable(entries: entries)
    }
}
