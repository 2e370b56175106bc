import Crypto

/// A register's hash algorithm: the kernel's `enum hash_algo` entries that tsmfs serves.
///
/// The raw value is the kernel's crypto name (`hash_algo_name[]`), which `hash_algo` files show.
public enum HashAlgorithm: String, CaseIterable, Sendable, Codable {
    case sha256
    case sha384
    case sha512

    /// `hash_digest_size[]`.
    public var digestSize: Int {
        switch self {
        case .sha256: return 32
        case .sha384: return 48
        case .sha512: return 64
        }
    }

    /// The kernel's `enum hash_algo` index (HASH_ALGO_SHA256 = 4, ...).
    public var kernelIndex: Int {
        switch self {
        case .sha256: return 4
        case .sha384: return 5
        case .sha512: return 6
        }
    }

    /// The digest of the concatenation of `parts`.
    public func digest(_ parts: [UInt8]...) -> [UInt8] {
        digest(of: parts)
    }

    /// The digest of the concatenation of `parts`, without building the concatenation.
    public func digest(of parts: [[UInt8]]) -> [UInt8] {
        switch self {
        case .sha256: return Self.run(SHA256(), parts)
        case .sha384: return Self.run(SHA384(), parts)
        case .sha512: return Self.run(SHA512(), parts)
        }
    }

    private static func run<H: HashFunction>(_ hasher: H, _ parts: [[UInt8]]) -> [UInt8] {
        var hasher = hasher
        for part in parts { hasher.update(data: part) }
        return Array(hasher.finalize())
    }

    /// The extend rule of every tsm-mr driver and of TDG.MR.RTMR.EXTEND: `new = H(old ‖ data)`.
    public func extend(_ old: [UInt8], with data: [UInt8]) -> [UInt8] {
        digest(of: [old, data])
    }
}
