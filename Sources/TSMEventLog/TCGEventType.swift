/// A TCG event type (TCG PC Client Platform Firmware Profile, 10.4.1 "Event Types").
///
/// A raw value wrapper rather than an enum: a log may carry any 32-bit type, and decoding must
/// keep types it does not know.
public struct TCGEventType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `EV_POST_CODE`.
    public static let postCode = TCGEventType(rawValue: 0x0000_0001)
    /// `EV_NO_ACTION`: not extended into any register (the Spec ID event is one).
    public static let noAction = TCGEventType(rawValue: 0x0000_0003)
    /// `EV_SEPARATOR`.
    public static let separator = TCGEventType(rawValue: 0x0000_0004)
    /// `EV_ACTION`.
    public static let action = TCGEventType(rawValue: 0x0000_0005)
    /// `EV_EVENT_TAG`: a tagged event (`TCG_PCClientTaggedEvent`); Linux and tsmfs use it for
    /// runtime measurements.
    public static let eventTag = TCGEventType(rawValue: 0x0000_0006)
    /// `EV_IPL`: initial program load (kernel, initrd, command line as grub/shim log them).
    public static let ipl = TCGEventType(rawValue: 0x0000_000D)
    /// `EV_EFI_VARIABLE_DRIVER_CONFIG`.
    public static let efiVariableDriverConfig = TCGEventType(rawValue: 0x8000_0001)
    /// `EV_EFI_VARIABLE_BOOT`.
    public static let efiVariableBoot = TCGEventType(rawValue: 0x8000_0002)
    /// `EV_EFI_BOOT_SERVICES_APPLICATION`.
    public static let efiBootServicesApplication = TCGEventType(rawValue: 0x8000_0003)
    /// `EV_EFI_ACTION`.
    public static let efiAction = TCGEventType(rawValue: 0x8000_0007)
    /// `EV_EFI_HANDOFF_TABLES2`.
    public static let efiHandoffTables2 = TCGEventType(rawValue: 0x8000_000B)
    /// `EV_EFI_PLATFORM_FIRMWARE_BLOB2`.
    public static let efiPlatformFirmwareBlob2 = TCGEventType(rawValue: 0x8000_000A)
    /// `EV_EFI_VARIABLE_AUTHORITY`.
    public static let efiVariableAuthority = TCGEventType(rawValue: 0x8000_00E0)

    public var description: String {
        "0x" + String(rawValue, radix: 16, uppercase: true)
    }
}
