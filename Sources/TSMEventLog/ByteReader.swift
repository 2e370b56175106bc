import TSMBytes

/// The shared bounds-checked reader, throwing ``EventLogError/truncated(structure:field:offset:needed:available:)``.
typealias ByteReader = TSMBytes.ByteReader<EventLogError>
typealias ByteWriter = TSMBytes.ByteWriter

extension EventLogError: TruncationReporting {
    public static func truncated(_ t: Truncation) -> EventLogError {
        .truncated(structure: t.structure, field: t.field, offset: t.offset, needed: t.needed, available: t.available)
    }
}

/// Lower-case hex, two digits a byte.
func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

/// The bytes of a hex string (either case, even length, no separators); nil for anything else.
func bytes(fromHex text: String) -> [UInt8]? { Hex.decode(text) }
