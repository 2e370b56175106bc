/// `mr_flags` of RFC v2's `struct tsm_measurement_register` (ABI.md 2.2).
public struct RegisterFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `TSM_MR_F_X`: a write extends through the backend instead of overwriting.
    public static let extensible = RegisterFlags(rawValue: 1)
    /// `TSM_MR_F_W`: the file gets write permission bits (0220).
    public static let writable = RegisterFlags(rawValue: 2)
    /// `TSM_MR_F_R`: the file gets read permission bits (0444).
    public static let readable = RegisterFlags(rawValue: 4)
    /// `TSM_MR_F_L`: other writes can change this register, so a stale read refreshes first.
    public static let live = RegisterFlags(rawValue: 8)
    /// `TSM_MR_F_F`: a plain file in the provider directory instead of a directory.
    public static let file = RegisterFlags(rawValue: 16)

    /// `TSM_MR_F_LIVE` (L + R).
    public static let liveReadable: RegisterFlags = [.live, .readable]
    /// `TSM_MR_F_RTMR` (L + R + X). Not writable by itself.
    public static let rtmr: RegisterFlags = [.live, .readable, .extensible]

    /// The flag letters, in the order the config format and `tsmfs providers` print them.
    public static let letters: [(Character, RegisterFlags)] = [
        ("R", .readable), ("W", .writable), ("X", .extensible), ("L", .live), ("F", .file),
    ]

    public init?(letters: [String]) {
        var flags: RegisterFlags = []
        for letter in letters {
            guard letter.count == 1, let character = letter.first,
                let match = Self.letters.first(where: { $0.0 == character })
            else { return nil }
            flags.insert(match.1)
        }
        self = flags
    }

    public var letterList: [String] {
        Self.letters.filter { contains($0.1) }.map { String($0.0) }
    }

    /// The file mode RFC v2 derives from R and W: 0444, 0220, 0664 or 0000 (ABI.md 2.3).
    public var fileMode: UInt16 {
        (contains(.readable) ? 0o444 : 0) | (contains(.writable) ? 0o220 : 0)
    }
}
