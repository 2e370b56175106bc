import TSMBytes

/// Lowercase hexadecimal, as the JSON rendering and error messages print bytes (the shared one).
public typealias Hex = TSMBytes.Hex
