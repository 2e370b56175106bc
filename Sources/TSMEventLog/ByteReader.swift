import TSMBytes

/// The shared bounds-checked reader, throwing ``EventLogError/truncated(structure:field:offset:needed:available:)``.
typealias ByteReader = TSMBytes.ByteReader<EventLogError>

extension EventLogError: TruncationReporting {
    public static func truncated(_ t: Truncation) -> EventLogError {
        .truncated(structure: t.structure, field: t.field, offset: t.offset, needed: t.needed, available: t.available)
    }
}
