/// Why an event log, a CCEL table, a boot-log description or a runtime record was refused.
/// Decoders of hostile bytes throw nothing else, and never trap.
public enum EventLogError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `structure` ended before `field`: it needs `needed` bytes at `offset`, `available` remain.
    case truncated(structure: String, field: String, offset: Int, needed: Int, available: Int)
    /// `structure` at `offset` holds a value no producer of it writes (wrong signature, size,
    /// algorithm, register index, checksum, ...).
    case malformed(structure: String, offset: Int, reason: String)
    /// An input to an encoder or to the runtime log has the wrong size or value.
    case invalidInput(field: String, reason: String)
    /// The log does not fit the ACPI log area: `needed` bytes, `available` in LAML.
    case logAreaTooSmall(needed: Int, available: Int)
    /// The runtime log reached its capacity; the extend that asked for a record was refused.
    case runtimeLogFull(capacity: Int)
    /// A boot-log description (JSON) could not be read; `message` says where.
    case description(String)

    /// A message naming the structure and field at fault.
    public var description: String {
        switch self {
        case .truncated(let structure, let field, let offset, let needed, let available):
            return "\(structure): truncated at \(field) (offset \(offset): needs \(needed) bytes, \(available) left)"
        case .malformed(let structure, let offset, let reason):
            return "\(structure) at offset \(offset): \(reason)"
        case .invalidInput(let field, let reason):
            return "\(field): \(reason)"
        case .logAreaTooSmall(let needed, let available):
            return "the event log needs \(needed) bytes but the log area (LAML) has \(available)"
        case .runtimeLogFull(let capacity):
            return "the runtime event log is full (\(capacity) bytes)"
        case .description(let message):
            return message
        }
    }
}
