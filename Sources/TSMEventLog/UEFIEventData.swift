import TSMBytes

/// Builders for the event data structures of TCG PC Client PFP 1.06, 10.2.3-10.2.5 and 10.4.2,
/// as firmware and boot loaders log them. Integers are little-endian, strings UTF-16LE where UEFI
/// uses CHAR16.
public enum UEFIEventData {
    /// `UEFI_PLATFORM_FIRMWARE_BLOB2`: u8 description size, description, u64 base, u64 length.
    /// The description is cut to 255 bytes.
    public static func platformFirmwareBlob2(description: String, base: UInt64, length: UInt64) -> [UInt8] {
        let text = Array(description.utf8.prefix(255))
        var writer = ByteWriter()
        writer.u8(UInt8(text.count))
        writer.append(text)
        writer.u64(base)
        writer.u64(length)
        return writer.bytes
    }

    /// `UEFI_VARIABLE_DATA`: the vendor GUID, u64 name length in CHAR16s, u64 data length, the
    /// name (UTF-16LE, no NUL), the data.
    public static func variableData(vendor: [UInt8], name: String, data: [UInt8]) -> [UInt8] {
        let name16 = Array(name.utf16)
        var writer = ByteWriter()
        writer.append(Array(vendor.prefix(16)) + [UInt8](repeating: 0, count: max(0, 16 - vendor.count)))
        writer.u64(UInt64(name16.count))
        writer.u64(UInt64(data.count))
        for unit in name16 { writer.u16(unit) }
        writer.append(data)
        return writer.bytes
    }

    /// `UEFI_IMAGE_LOAD_EVENT`: u64 location in memory, u64 length in memory, u64 link-time
    /// address, u64 device path length, the device path.
    public static func imageLoadEvent(
        location: UInt64, length: UInt64, linkTimeAddress: UInt64 = 0, devicePath: [UInt8]
    ) -> [UInt8] {
        var writer = ByteWriter()
        writer.u64(location)
        writer.u64(length)
        writer.u64(linkTimeAddress)
        writer.u64(UInt64(devicePath.count))
        writer.append(devicePath)
        return writer.bytes
    }

    /// A device path of one media file-path node (type 4, subtype 4: the path in UTF-16LE with
    /// its NUL) and the end-of-path node (0x7F, 0xFF, length 4), UEFI 2.10, 10.3.5.4.
    public static func filePathDevicePath(_ path: String) -> [UInt8] {
        let path16 = Array(path.utf16) + [0]
        var writer = ByteWriter()
        writer.u8(0x04)
        writer.u8(0x04)
        writer.u16(UInt16(truncatingIfNeeded: 4 + path16.count * 2))
        for unit in path16 { writer.u16(unit) }
        writer.append([0x7F, 0xFF, 0x04, 0x00])
        return writer.bytes
    }

    /// An `EFI_GUID` in its in-memory form (the first three fields little-endian) from the text
    /// form `8BE4DF61-93CA-11D2-AA0D-00E098032B8C`; nil for anything else.
    public static func guid(_ text: String) -> [UInt8]? {
        UUIDText.parse(text).map(UUIDText.efiOrder)
    }

    /// `EFI_GLOBAL_VARIABLE` (SecureBoot, PK, KEK, BootOrder, Boot####).
    public static let globalVariableGUID: [UInt8] = [
        0x61, 0xDF, 0xE4, 0x8B, 0xCA, 0x93, 0xD2, 0x11, 0xAA, 0x0D, 0x00, 0xE0, 0x98, 0x03, 0x2B, 0x8C,
    ]

    /// ASCII text with a terminating NUL, as grub logs its `EV_IPL` strings.
    public static func cString(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }
}

/// `TCG_PCClientTaggedEvent` (TCG PC Client PFP 1.06, 10.4.2.1): the event data of `EV_EVENT_TAG`,
/// a u32 `taggedEventID`, a u32 `taggedEventDataSize` and the data.
public struct TaggedEvent: Sendable, Equatable {
    /// `taggedEventID`.
    public var id: UInt32
    /// `taggedEventData`.
    public var data: [UInt8]

    /// Linux's EFI stub: the initrd it loaded (`INITRD_EVENT_TAG_ID`).
    public static let linuxInitrdID: UInt32 = 0x8F3B_22EC
    /// Linux's EFI stub: the kernel's load options, i.e. its command line (`LOAD_OPTIONS_EVENT_TAG_ID`).
    public static let linuxLoadOptionsID: UInt32 = 0x8F3B_22ED
    /// tsmfs's runtime extends: the bytes "TSMF" in the log.
    public static let tsmfsExtendID: UInt32 = 0x464D_5354

    /// A tagged event with `id` and `data`.
    public init(id: UInt32, data: [UInt8]) {
        self.id = id
        self.data = data
    }

    /// The structure's bytes: id, data size, data.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.u32(id)
        writer.u32(UInt32(truncatingIfNeeded: data.count))
        writer.append(data)
        return writer.bytes
    }

    /// Decodes event data that must be exactly one tagged event.
    public init(decoding bytes: [UInt8]) throws(EventLogError) {
        var reader = ByteReader(bytes, structure: "TCG_PCClientTaggedEvent")
        id = try reader.u32("taggedEventID")
        data = try reader.read(Int(try reader.u32("taggedEventDataSize")), "taggedEventData")
        guard reader.isAtEnd else {
            throw .malformed(
                structure: "TCG_PCClientTaggedEvent", offset: reader.offset,
                reason: "\(reader.remaining) bytes after taggedEventData")
        }
    }
}
