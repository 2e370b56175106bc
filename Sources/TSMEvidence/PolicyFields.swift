/// The platform states a relying party's policy tells apart, by the names tsmfs's options and
/// `tsmfs verify`'s policy give them, and where each vendor's format keeps them (docs/policy.md).

/// A named bit of a u64 field (TDATTRIBUTES, the SEV-SNP guest policy).
public struct NamedBit: Sendable, Equatable {
    public let name: String
    public let bit: Int

    public init(_ name: String, _ bit: Int) {
        self.name = name
        self.bit = bit
    }

    /// `bits` named in `text` (comma-separated; "none" for no bit) or-ed together; nil names the
    /// first unknown name with the known ones.
    static func parse(_ text: String, _ bits: [NamedBit], option: String) -> Result<UInt64, PolicyFieldError> {
        var value: UInt64 = 0
        if text == "none" { return .success(0) }
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let bit = bits.first(where: { $0.name == name }) else {
                let known = bits.map(\.name).joined(separator: ", ")
                return .failure(PolicyFieldError("\(option) \(name): not one of \(known) (or none)"))
            }
            value |= 1 << UInt64(bit.bit)
        }
        return .success(value)
    }
}

/// A policy field's text that names no value: the message says which and what it takes.
public struct PolicyFieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// TDX TDATTRIBUTES (Intel TDX Module ABI spec, "TDATTRIBUTES"; TDREPORT's TDINFO, the quote's
/// TD report body at offset 120): the attributes `--td-attributes` names.
public enum TDAttributes {
    /// DEBUG (bit 0): the host VMM can read and write the TD's private state.
    public static let debugBit = 0
    public static let bits = [
        NamedBit("debug", 0), NamedBit("sept-ve-disable", 28), NamedBit("pks", 30), NamedBit("kl", 31),
        NamedBit("perfmon", 63),
    ]
    /// SEPT_VE_DISABLE only, as a common production TD has it (what tsmfs signed before the option).
    public static let `default`: UInt64 = 1 << 28
    /// XFAM 0x61ae7 (x87, SSE, AVX, AVX-512, PKRU, ...).
    public static let defaultXFAM: UInt64 = 0x61ae7

    /// `--td-attributes`'s value: names, comma-separated.
    public static func parse(_ text: String) -> Result<UInt64, PolicyFieldError> {
        NamedBit.parse(text, bits, option: "--td-attributes")
    }
}

/// The SEV-SNP guest policy (AMD SEV-SNP ABI spec, "Guest Policy"; ATTESTATION_REPORT offset
/// 0x08): the bits `--snp-policy` names. Bit 17 is reserved and must be one.
public enum SNPGuestPolicy {
    public static let debugBit = 19
    public static let reservedBit = 17
    public static let bits = [
        NamedBit("smt", 16), NamedBit("migrate-ma", 18), NamedBit("debug", 19), NamedBit("single-socket", 20),
    ]
    /// SMT allowed, the reserved bit, ABI 0.0: 0x30000, what tsmfs signed before the option.
    public static let `default`: UInt64 = 0x30000

    /// `--snp-policy`'s value: bit names and `abi=MAJOR.MINOR` (bits 15:8, 7:0), comma-separated.
    public static func parse(_ text: String) -> Result<UInt64, PolicyFieldError> {
        var value: UInt64 = 1 << UInt64(reservedBit)
        var names: [String] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard part.hasPrefix("abi=") else {
                names.append(String(part))
                continue
            }
            let version = part.dropFirst(4).split(separator: ".", omittingEmptySubsequences: false)
            guard version.count == 2, let major = UInt8(version[0]), let minor = UInt8(version[1]) else {
                return .failure(PolicyFieldError("--snp-policy \(part): abi= takes MAJOR.MINOR, each 0 to 255"))
            }
            value |= UInt64(major) << 8 | UInt64(minor)
        }
        if !names.isEmpty {
            switch NamedBit.parse(names.joined(separator: ","), bits, option: "--snp-policy") {
            case .success(let bits): value |= bits
            case .failure(let error): return .failure(error)
            }
        }
        return .success(value)
    }
}

extension SNPTCB {
    /// A TCB from its SPL fields, `bl=N,tee=N,snp=N,ucode=N` (each 0 to 255, all four given).
    public static func parse(_ text: String, option: String) -> Result<SNPTCB, PolicyFieldError> {
        var fields: [String: UInt8] = [:]
        let grammar = "\(option) takes bl=N,tee=N,snp=N,ucode=N (each 0 to 255)"
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, ["bl", "tee", "snp", "ucode"].contains(pair[0]), fields[String(pair[0])] == nil,
                let number = UInt8(pair[1])
            else { return .failure(PolicyFieldError("\(grammar): \(part) is not")) }
            fields[String(pair[0])] = number
        }
        guard let bl = fields["bl"], let tee = fields["tee"], let snp = fields["snp"], let ucode = fields["ucode"]
        else {
            return .failure(PolicyFieldError("\(grammar): all four are needed"))
        }
        return .success(SNPTCB(bootloader: bl, tee: tee, snp: snp, microcode: ucode))
    }

    /// `bl=N,tee=N,snp=N,ucode=N`, as ``parse(_:option:)`` reads it.
    public var splText: String { "bl=\(bootloader),tee=\(tee),snp=\(snp),ucode=\(microcode)" }
}

/// The CCA platform token's security lifecycle (claim 2395; Arm CCA Security Model / the CCA
/// token draft's `cca-platform-lifecycle`, after PSA's RFC 9783 section 4.2.4): a state in the
/// high byte, an implementation-defined low byte.
public enum CCALifecycle {
    /// The states by name, each the base of its 0xN000...0xN0FF range.
    public static let states: [(name: String, base: UInt64)] = [
        ("unknown", 0x0000), ("assembly-and-test", 0x1000), ("cca-platform-rot-provisioning", 0x2000),
        ("secured", 0x3000), ("non-cca-platform-rot-debug", 0x4000), ("recoverable-cca-platform-rot-debug", 0x5000),
        ("decommissioned", 0x6000),
    ]
    /// What the mock platform reported before the option: secured.
    public static let `default`: UInt64 = 0x3000

    /// The state's name of `value` (its range), or nil outside every range.
    public static func name(of value: UInt64) -> String? {
        states.first { value >= $0.base && value <= $0.base + 0xff }?.name
    }

    /// A state by name (`debug` is `non-cca-platform-rot-debug`) or a number in a state's range
    /// (0x30a7).
    public static func parse(_ text: String, option: String) -> Result<UInt64, PolicyFieldError> {
        let name = text == "debug" ? "non-cca-platform-rot-debug" : text
        if let state = states.first(where: { $0.name == name }) { return .success(state.base) }
        if text.hasPrefix("0x"), let value = UInt64(text.dropFirst(2), radix: 16), Self.name(of: value) != nil {
            return .success(value)
        }
        let known = states.map(\.name).joined(separator: ", ")
        return .failure(PolicyFieldError("\(option) \(text): not one of \(known), debug, or 0xN0XX in a state's range"))
    }
}
