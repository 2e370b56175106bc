import TSMBytes

/// The log's first record: a `TCG_PCClientPCREvent` (the SHA-1 style header: pcrIndex,
/// eventType `EV_NO_ACTION`, a 20-byte zero digest, eventSize) whose event is a
/// `TCG_EfiSpecIDEventStruct` with signature "Spec ID Event03" (TCG PC Client PFP 1.06, 10.4.5.1).
///
/// Its digest sizes table is how a parser learns the size of each algorithm's digest in the
/// records that follow; the TDX log lists SHA-384 only.
public struct SpecIDEvent: Sendable, Equatable {
    /// One `TCG_EfiSpecIdEventAlgorithmSize`: a TCG algorithm id and its digest size.
    public struct AlgorithmSize: Sendable, Equatable {
        /// `algorithmId`: a TCG algorithm registry id (`TPM_ALG_SHA384` = 0x000C).
        public var algorithmID: UInt16
        /// `digestSize` in bytes.
        public var digestSize: UInt16

        /// One table entry.
        public init(algorithmID: UInt16, digestSize: UInt16) {
            self.algorithmID = algorithmID
            self.digestSize = digestSize
        }
    }

    /// `signature[16]`: "Spec ID Event03" and a NUL.
    public static let signature: [UInt8] = Array("Spec ID Event03".utf8) + [0]
    /// The header record's size before its event: pcrIndex, eventType, digest[20], eventSize.
    public static let headerSize = 32

    /// `pcrIndex` of the header. TDVF writes 1 (MR index 1, which cctrusted reads as the Spec ID
    /// event); a TPM log writes 0. Never extended.
    public var mrIndex: UInt32
    /// `platformClass`: 0 = client.
    public var platformClass: UInt32
    /// `specVersionMinor`: 0 for a TPM 2.0 log.
    public var specVersionMinor: UInt8
    /// `specVersionMajor`: 2 for a TPM 2.0 log.
    public var specVersionMajor: UInt8
    /// `specErrata`: 0 as TDVF writes it.
    public var specErrata: UInt8
    /// `uintnSize`: UINTN in 32-bit units; 2 on x86-64.
    public var uintnSize: UInt8
    /// `digestSizes[numberOfAlgorithms]`.
    public var algorithms: [AlgorithmSize]
    /// `vendorInfo[vendorInfoSize]`; encoding keeps the first 255 bytes.
    public var vendorInfo: [UInt8]

    /// What TDVF's `SetupCcEventLog` writes: MR index 1, client class, spec 2.0 errata 0,
    /// UINTN of 64 bits, SHA-384 only, no vendor info.
    public static let tdx = SpecIDEvent(
        mrIndex: 1, platformClass: 0, specVersionMinor: 0, specVersionMajor: 2, specErrata: 0, uintnSize: 2,
        algorithms: [AlgorithmSize(algorithmID: TCGEvent.sha384AlgorithmID, digestSize: UInt16(TCGEvent.digestSize))],
        vendorInfo: [])

    /// A header with every field given; ``tdx`` is what TDVF writes.
    public init(
        mrIndex: UInt32, platformClass: UInt32, specVersionMinor: UInt8, specVersionMajor: UInt8,
        specErrata: UInt8, uintnSize: UInt8, algorithms: [AlgorithmSize], vendorInfo: [UInt8]
    ) {
        self.mrIndex = mrIndex
        self.platformClass = platformClass
        self.specVersionMinor = specVersionMinor
        self.specVersionMajor = specVersionMajor
        self.specErrata = specErrata
        self.uintnSize = uintnSize
        self.algorithms = algorithms
        self.vendorInfo = vendorInfo
    }

    /// The `TCG_EfiSpecIDEventStruct` bytes (the header record's event).
    public func structBytes() -> [UInt8] {
        var writer = ByteWriter()
        writer.append(Self.signature)
        writer.u32(platformClass)
        writer.u8(specVersionMinor)
        writer.u8(specVersionMajor)
        writer.u8(specErrata)
        writer.u8(uintnSize)
        writer.u32(UInt32(truncatingIfNeeded: algorithms.count))
        for algorithm in algorithms {
            writer.u16(algorithm.algorithmID)
            writer.u16(algorithm.digestSize)
        }
        // vendorInfoSize is a u8: more than 255 bytes of vendor info are cut, size and bytes alike.
        let vendorInfo = Array(self.vendorInfo.prefix(255))
        writer.u8(UInt8(vendorInfo.count))
        writer.append(vendorInfo)
        return writer.bytes
    }

    /// The whole header record: `TCG_PCClientPCREvent` with the struct as its event.
    public func encoded() -> [UInt8] {
        let event = structBytes()
        var writer = ByteWriter()
        writer.u32(mrIndex)
        writer.u32(TCGEventType.noAction.rawValue)
        writer.zeros(20)
        writer.u32(UInt32(truncatingIfNeeded: event.count))
        writer.append(event)
        return writer.bytes
    }

    /// The digest size the table gives `algorithmID`, if it lists it.
    public func digestSize(of algorithmID: UInt16) -> Int? {
        algorithms.first { $0.algorithmID == algorithmID }.map { Int($0.digestSize) }
    }

    /// Reads the header record at the reader's position and checks it is a Spec ID Event03 whose
    /// table lists SHA-384 at 48 bytes and lists no algorithm twice.
    static func decode(_ reader: inout ByteReader) throws(EventLogError) -> SpecIDEvent {
        let start = reader.offset
        let mrIndex = try reader.u32("pcrIndex")
        let type = try reader.u32("eventType")
        guard type == TCGEventType.noAction.rawValue else {
            throw .malformed(
                structure: "Spec ID event", offset: start,
                reason: "the first record is type \(TCGEventType(rawValue: type)), not EV_NO_ACTION")
        }
        _ = try reader.read(20, "digest")
        let size = Int(try reader.u32("eventSize"))
        let eventStart = reader.offset
        var event = ByteReader(try reader.read(size, "event"), structure: "TCG_EfiSpecIDEventStruct")
        guard try event.read(16, "signature") == signature else {
            throw .malformed(
                structure: "Spec ID event", offset: eventStart, reason: "signature is not \"Spec ID Event03\"")
        }
        let platformClass = try event.u32("platformClass")
        let minor = try event.u8("specVersionMinor")
        let major = try event.u8("specVersionMajor")
        let errata = try event.u8("specErrata")
        let uintnSize = try event.u8("uintnSize")
        let count = try event.u32("numberOfAlgorithms")
        // Each entry is 4 bytes: refuse a count the event cannot hold before looping on it.
        guard UInt64(count) * 4 <= UInt64(event.remaining) else {
            throw .truncated(
                structure: "TCG_EfiSpecIDEventStruct", field: "digestSizes", offset: eventStart + event.offset,
                needed: Int(count) * 4, available: event.remaining)
        }
        var algorithms: [AlgorithmSize] = []
        for _ in 0..<count {
            let algorithm = AlgorithmSize(
                algorithmID: try event.u16("algorithmId"), digestSize: try event.u16("digestSize"))
            guard !algorithms.contains(where: { $0.algorithmID == algorithm.algorithmID }) else {
                throw .malformed(
                    structure: "Spec ID event", offset: eventStart,
                    reason: "algorithm 0x\(String(algorithm.algorithmID, radix: 16)) listed twice")
            }
            algorithms.append(algorithm)
        }
        let vendorInfo = try event.read(Int(try event.u8("vendorInfoSize")), "vendorInfo")
        guard event.isAtEnd else {
            throw .malformed(
                structure: "Spec ID event", offset: eventStart,
                reason: "eventSize \(size) leaves \(event.remaining) bytes after vendorInfo")
        }
        let header = SpecIDEvent(
            mrIndex: mrIndex, platformClass: platformClass, specVersionMinor: minor, specVersionMajor: major,
            specErrata: errata, uintnSize: uintnSize, algorithms: algorithms, vendorInfo: vendorInfo)
        guard header.digestSize(of: TCGEvent.sha384AlgorithmID) == TCGEvent.digestSize else {
            throw .malformed(
                structure: "Spec ID event", offset: eventStart,
                reason: "the digest sizes do not list sha384 (0x000C) at 48 bytes")
        }
        return header
    }
}
