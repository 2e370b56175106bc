/// Where a report provider logs evidence it could not make, with the cause, before the reader
/// gets EIO.
public typealias EvidenceLog = @Sendable (String) -> Void
