/// One row of a provider's register table: RFC v2's `struct tsm_measurement_register` plus what
/// the software model needs to start and refresh it (initial value, derivation).
public struct RegisterDescriptor: Sendable, Equatable {
    /// `mr_name`: the directory (or, with F, file) name.
    public var name: String
    /// `mr_hash`; nil for registers with no hash (allowed only for F registers that are not X).
    public var hash: HashAlgorithm?
    /// `mr_size` in bytes.
    public var size: Int
    public var flags: RegisterFlags
    /// The value at start, zero-padded to `size`.
    public var initial: [UInt8]
    /// How the software backend recomputes this live register on refresh; nil keeps its value.
    public var derivation: Derivation?

    public init(
        name: String, hash: HashAlgorithm?, size: Int? = nil, flags: RegisterFlags,
        initial: [UInt8] = [], derivation: Derivation? = nil
    ) {
        self.name = name
        self.hash = hash
        self.size = size ?? hash?.digestSize ?? 0
        self.flags = flags
        self.initial = initial
        self.derivation = derivation
    }

    /// The bytes the register holds at start.
    public var initialValue: [UInt8] {
        initial.count >= size
            ? Array(initial.prefix(size)) : initial + [UInt8](repeating: 0, count: size - initial.count)
    }
}

/// How a live register's value follows from the others when the provider refreshes.
public enum Derivation: Sendable, Equatable {
    /// `hash(r1 ‖ r2 ‖ ...)`, as the sample's `report_digest`.
    case digest(HashAlgorithm, of: [String])
    /// A zero-filled buffer of the register's size with fields placed at offsets, as the sample's
    /// `full_report` (the backing struct) or a TDREPORT.
    case layout([LayoutField])

    /// The registers this derivation reads.
    public var inputs: [String] {
        switch self {
        case .digest(_, let names): return names
        case .layout(let fields):
            return fields.compactMap { if case .register(let name) = $0.source { return name } else { return nil } }
        }
    }
}

/// One field of a ``Derivation/layout(_:)``.
///
/// Register and constant fields are placed first, in order; then the computed fields
/// (``Source/digest(_:of:)``, ``Source/mac(of:)``), in order, each over the bytes laid so far. So
/// a TDREPORT is one layout: the registers, then SHA-384 of TEE_TCB_INFO and of TDINFO, then the
/// MAC over REPORTMACSTRUCT (which covers both hashes).
public struct LayoutField: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// The current value of a register of the same provider.
        case register(String)
        /// Constant bytes.
        case bytes([UInt8])
        /// `hash` of the layout's bytes `range`, computed after the register and constant fields.
        case digest(HashAlgorithm, of: Range<Int>)
        /// HMAC-SHA-256 (32 bytes) of the layout's bytes `range` under the daemon's own key (the
        /// software backend's), computed after the register and constant fields: a TDREPORT's
        /// REPORTMACSTRUCT MAC. The key is never part of a descriptor.
        case mac(of: Range<Int>)

        /// Bytes of the HMAC-SHA-256 a ``mac(of:)`` field writes.
        public static let macSize = 32

        /// Whether the field is computed over the layout (a digest or a MAC) rather than placed.
        public var isComputed: Bool {
            switch self {
            case .register, .bytes: return false
            case .digest, .mac: return true
            }
        }

        /// The bytes of the layout a computed field covers; nil for a placed field.
        public var covered: Range<Int>? {
            switch self {
            case .register, .bytes: return nil
            case .digest(_, let range), .mac(let range): return range
            }
        }
    }

    public var offset: Int
    public var source: Source

    public init(offset: Int, source: Source) {
        self.offset = offset
        self.source = source
    }

    public static func register(_ name: String, at offset: Int) -> LayoutField {
        LayoutField(offset: offset, source: .register(name))
    }

    public static func bytes(_ bytes: [UInt8], at offset: Int) -> LayoutField {
        LayoutField(offset: offset, source: .bytes(bytes))
    }

    /// `hash` of bytes `range` of the layout, at `offset`.
    public static func digest(_ hash: HashAlgorithm, of range: Range<Int>, at offset: Int) -> LayoutField {
        LayoutField(offset: offset, source: .digest(hash, of: range))
    }

    /// The daemon's HMAC-SHA-256 of bytes `range` of the layout, at `offset`.
    public static func mac(of range: Range<Int>, at offset: Int) -> LayoutField {
        LayoutField(offset: offset, source: .mac(of: range))
    }
}

/// A provider as a table: RFC v2's `struct tsm_measurement` without its callbacks.
public struct ProviderDescriptor: Sendable, Equatable {
    /// `tsm_measurement.name`: the directory under the mount root.
    public var name: String
    /// In registration order.
    public var registers: [RegisterDescriptor]

    public init(name: String, registers: [RegisterDescriptor]) {
        self.name = name
        self.registers = registers
    }
}
