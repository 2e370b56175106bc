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
        case .sha256: return Self.run(SHA256.self, parts)
        case .sha384: return Self.run(SHA384.self, parts)
        case .sha512: return Self.run(SHA512.self, parts)
        }
    }

    /// The hasher is made here, not passed in: a copy of a hasher shares its context, so the
    /// first update would copy the context (an allocation) before hashing.
    private static func run<H: HashFunction>(_: H.Type, _ parts: [[UInt8]]) -> [UInt8] {
        var hasher = H()
        for part in parts { hasher.update(data: part) }
        return bytes(of: hasher.finalize())
    }

    /// The extend rule of every tsm-mr driver and of TDG.MR.RTMR.EXTEND: `new = H(old ‖ data)`.
    /// On every extend's path, so without the array of parts that ``digest(of:)`` takes.
    public func extend(_ old: [UInt8], with data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: return Self.extend(SHA256.self, old, data)
        case .sha384: return Self.extend(SHA384.self, old, data)
        case .sha512: return Self.extend(SHA512.self, old, data)
        }
    }

    private static func extend<H: HashFunction>(_: H.Type, _ old: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var hasher = H()
        hasher.update(data: old)
        hasher.update(data: data)
        return bytes(of: hasher.finalize())
    }

    /// A digest's bytes in one copy (`Array(digest)` goes through the generic sequence path, a
    /// byte at a time).
    private static func bytes<D: Digest>(of digest: D) -> [UInt8] {
        digest.withUnsafeBytes { Array($0) }
    }
}
