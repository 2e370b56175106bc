/// A TCG event type (TCG PC Client Platform Firmware Profile 1.06, 10.4.1 "Event Types"), the
/// `eventType` field of `TCG_PCR_EVENT2`.
///
/// A raw-value wrapper rather than an enum: a log may carry any 32-bit type, and decoding keeps
/// the types it has no name for.
public struct TCGEventType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The `eventType` value.
    public var rawValue: UInt32

    /// The type with value `rawValue`, named or not.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `EV_POST_CODE`.
    public static let postCode = TCGEventType(rawValue: 0x0000_0001)
    /// `EV_NO_ACTION`: logged but never extended (the Spec ID event is one).
    public static let noAction = TCGEventType(rawValue: 0x0000_0003)
    /// `EV_SEPARATOR`: the end of pre-OS measurements into a register.
    public static let separator = TCGEventType(rawValue: 0x0000_0004)
    /// `EV_ACTION`: an ASCII action string.
    public static let action = TCGEventType(rawValue: 0x0000_0005)
    /// `EV_EVENT_TAG`: the event is a `TCG_PCClientTaggedEvent` (``TaggedEvent``); Linux's EFI stub
    /// logs the initrd and the load options with it, tsmfs its runtime extends.
    public static let eventTag = TCGEventType(rawValue: 0x0000_0006)
    /// `EV_IPL`: initial program load; boot loaders log the kernel and its command line with it.
    public static let ipl = TCGEventType(rawValue: 0x0000_000D)
    /// `EV_EFI_VARIABLE_DRIVER_CONFIG`: a `UEFI_VARIABLE_DATA` (Secure Boot variables).
    public static let efiVariableDriverConfig = TCGEventType(rawValue: 0x8000_0001)
    /// `EV_EFI_VARIABLE_BOOT`: a `UEFI_VARIABLE_DATA` (BootOrder, Boot####).
    public static let efiVariableBoot = TCGEventType(rawValue: 0x8000_0002)
    /// `EV_EFI_BOOT_SERVICES_APPLICATION`: a `UEFI_IMAGE_LOAD_EVENT` (a boot loader, an EFI-stub kernel).
    public static let efiBootServicesApplication = TCGEventType(rawValue: 0x8000_0003)
    /// `EV_EFI_ACTION`: an ASCII action string ("Calling EFI Application from Boot Option").
    public static let efiAction = TCGEventType(rawValue: 0x8000_0007)
    /// `EV_EFI_PLATFORM_FIRMWARE_BLOB2`: a `UEFI_PLATFORM_FIRMWARE_BLOB2` (firmware volumes).
    public static let efiPlatformFirmwareBlob2 = TCGEventType(rawValue: 0x8000_000A)
    /// `EV_EFI_HANDOFF_TABLES2`: a `UEFI_HANDOFF_TABLE_POINTERS2`.
    public static let efiHandoffTables2 = TCGEventType(rawValue: 0x8000_000B)
    /// `EV_EFI_VARIABLE_AUTHORITY`: a `UEFI_VARIABLE_DATA` (the db entry that verified an image).
    public static let efiVariableAuthority = TCGEventType(rawValue: 0x8000_00E0)

    /// The spec's name (`EV_IPL`), or the hex value for a type it does not name.
    public var description: String {
        Self.names[rawValue] ?? "0x" + String(rawValue, radix: 16, uppercase: true)
    }

    /// The type a spec name (`EV_IPL`) stands for; nil for an unknown name.
    public init?(name: String) {
        guard let value = Self.values[name] else { return nil }
        self.rawValue = value
    }

    /// PFP 1.06 table 9 (and the CEL's IMA type cctrusted names), value to name.
    static let names: [UInt32: String] = {
        var names: [UInt32: String] = [
            0x0: "EV_PREBOOT_CERT", 0x1: "EV_POST_CODE", 0x2: "EV_UNUSED", 0x3: "EV_NO_ACTION",
            0x4: "EV_SEPARATOR", 0x5: "EV_ACTION", 0x6: "EV_EVENT_TAG", 0x7: "EV_S_CRTM_CONTENTS",
            0x8: "EV_S_CRTM_VERSION", 0x9: "EV_CPU_MICROCODE", 0xA: "EV_PLATFORM_CONFIG_FLAGS",
            0xB: "EV_TABLE_OF_DEVICES", 0xC: "EV_COMPACT_HASH", 0xD: "EV_IPL", 0xE: "EV_IPL_PARTITION_DATA",
            0xF: "EV_NONHOST_CODE", 0x10: "EV_NONHOST_CONFIG", 0x11: "EV_NONHOST_INFO",
            0x12: "EV_OMIT_BOOT_DEVICE_EVENTS", 0x13: "EV_POST_CODE2",
        ]
        let efi: [UInt32: String] = [
            0x1: "EV_EFI_VARIABLE_DRIVER_CONFIG", 0x2: "EV_EFI_VARIABLE_BOOT", 0x3: "EV_EFI_BOOT_SERVICES_APPLICATION",
            0x4: "EV_EFI_BOOT_SERVICES_DRIVER", 0x5: "EV_EFI_RUNTIME_SERVICES_DRIVER", 0x6: "EV_EFI_GPT_EVENT",
            0x7: "EV_EFI_ACTION", 0x8: "EV_EFI_PLATFORM_FIRMWARE_BLOB", 0x9: "EV_EFI_HANDOFF_TABLES",
            0xA: "EV_EFI_PLATFORM_FIRMWARE_BLOB2", 0xB: "EV_EFI_HANDOFF_TABLES2", 0xC: "EV_EFI_VARIABLE_BOOT2",
            0xD: "EV_EFI_GPT_EVENT2", 0x10: "EV_EFI_HCRTM_EVENT", 0xE0: "EV_EFI_VARIABLE_AUTHORITY",
            0xE1: "EV_EFI_SPDM_FIRMWARE_BLOB", 0xE2: "EV_EFI_SPDM_FIRMWARE_CONFIG",
            0xE3: "EV_EFI_SPDM_DEVICE_POLICY", 0xE4: "EV_EFI_SPDM_DEVICE_AUTHORITY",
        ]
        for (offset, name) in efi { names[0x8000_0000 + offset] = name }
        return names
    }()

    static let values: [String: UInt32] = Dictionary(uniqueKeysWithValues: names.map { ($1, $0) })
}
