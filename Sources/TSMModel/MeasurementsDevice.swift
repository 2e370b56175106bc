/// One file of a merged-ABI `measurements/` directory: its name (`MR:HASH`, or `MR` for a register
/// with no hash), the register behind it, and the file mode from the 6.16 flags (R: 0444,
/// W: 0200, both: 0644). Several files may name the same register (the sample's crypto-agile banks).
public struct MeasurementsFile: Sendable, Equatable {
    public var name: String
    public var register: String
    public var permissions: UInt16

    public init(name: String, register: String, permissions: UInt16) {
        self.name = name
        self.register = register
        self.permissions = permissions
    }
}

/// A misc device carrying a `measurements` attribute group (Linux 6.16 tsm-mr, ABI.md 3.4-3.6).
public struct MeasurementsDevice: Sendable, Equatable {
    /// The misc device name: `/sys/devices/virtual/misc/<device>/`.
    public var device: String
    /// The provider whose registers the files show.
    public var provider: String
    public var files: [MeasurementsFile]

    public init(device: String, provider: String, files: [MeasurementsFile]) {
        self.device = device
        self.provider = provider
        self.files = files
    }
}
