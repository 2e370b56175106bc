import TSMModel

/// Where the boot log served in the ACPI CCEL log area comes from: TDVF's log of a boot that
/// never happened, or one the user gives. Replaying it gives the RTMRs their values at mount.
public enum BootLog {
    /// The default kernel command line of ``synthetic(kernel:commandLine:)``.
    public static let defaultCommandLine = "console=hvc0 root=/dev/vda1 ro"

    /// A small deterministic TDX boot: TDVF, a boot loader, a kernel, its initrd and command line.
    /// Every digest is SHA-384 of the record's event data.
    ///
    /// - RTMR0 (MR 1), firmware configuration: the CFV firmware volume
    ///   (`EV_EFI_PLATFORM_FIRMWARE_BLOB2`), SecureBoot = 0 (`EV_EFI_VARIABLE_DRIVER_CONFIG`),
    ///   BootOrder (`EV_EFI_VARIABLE_BOOT`), a separator.
    /// - RTMR1 (MR 2), the boot path: "Calling EFI Application from Boot Option", a separator, the
    ///   boot loader `\EFI\BOOT\BOOTX64.EFI` (`EV_EFI_BOOT_SERVICES_APPLICATION`), and at the end
    ///   "Exit Boot Services Invocation".
    /// - RTMR2 (MR 3), the OS: the kernel file (`EV_IPL` with its path, as grub logs it), the initrd
    ///   (`EV_EVENT_TAG` with Linux's initrd tag and "Linux initrd", as the EFI stub logs it), the
    ///   command line (`EV_IPL` "kernel_cmdline: KERNEL ARGS", as grub logs it).
    /// - RTMR3: nothing; it is left to the running guest.
    public static func synthetic(kernel: String = "/boot/vmlinuz", commandLine: String = defaultCommandLine)
        -> TCGEventLog
    {
        let separator: [UInt8] = [0, 0, 0, 0]
        let rows: [(rtmr: Int, type: TCGEventType, data: [UInt8])] = [
            (
                0, .efiPlatformFirmwareBlob2,
                UEFIEventData.platformFirmwareBlob2(description: "CFV", base: 0xFFC0_0000, length: 0x4_0000)
            ),
            (
                0, .efiVariableDriverConfig,
                UEFIEventData.variableData(vendor: UEFIEventData.globalVariableGUID, name: "SecureBoot", data: [0])
            ),
            (
                0, .efiVariableBoot,
                UEFIEventData.variableData(vendor: UEFIEventData.globalVariableGUID, name: "BootOrder", data: [0, 0])
            ),
            (0, .separator, separator),
            (1, .efiAction, Array("Calling EFI Application from Boot Option".utf8)),
            (1, .separator, separator),
            (
                1, .efiBootServicesApplication,
                UEFIEventData.imageLoadEvent(
                    location: 0x7E5A_0000, length: 0xE_9000,
                    devicePath: UEFIEventData.filePathDevicePath(#"\EFI\BOOT\BOOTX64.EFI"#))
            ),
            (2, .ipl, UEFIEventData.cString(kernel)),
            (
                2, .eventTag,
                TaggedEvent(id: TaggedEvent.linuxInitrdID, data: UEFIEventData.cString("Linux initrd")).encoded()
            ),
            (2, .ipl, UEFIEventData.cString("kernel_cmdline: \(kernel) \(commandLine)")),
            (1, .efiAction, Array("Exit Boot Services Invocation".utf8)),
        ]
        // Every row is a valid RTMR and a small payload: building cannot fail.
        let events = rows.compactMap { row in try? TCGEvent.measurement(rtmr: row.rtmr, type: row.type, data: row.data)
        }
        return TCGEventLog(events: events)
    }

    /// The largest boot-log file read: 16 times TDVF's 64 KiB log area (a real TD's log of
    /// firmware, boot loader and kernel is a few KB).
    public static let maxSize = 1 << 20
    /// The most events a boot log may hold (a real boot logs a few hundred).
    public static let maxEvents = 10_000

    /// Reads a boot log from a file's bytes: a binary TCG2 log (what `data/CCEL` of a real TD
    /// holds, 0xFF fill and all) or a JSON description (``BootLogDescription``). A file whose first
    /// non-blank byte is `{` or `[` is JSON. More than ``maxSize`` bytes or ``maxEvents`` events
    /// are refused (`invalidInput`, naming the limit).
    public static func load(_ bytes: [UInt8]) throws(EventLogError) -> TCGEventLog {
        guard bytes.count <= maxSize else {
            throw .invalidInput(field: "boot log", reason: "\(bytes.count) bytes, more than the limit of \(maxSize)")
        }
        let first = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        let log: TCGEventLog
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            log = try BootLogDescription.decode(bytes)
        } else {
            log = try TCGEventLog(decoding: bytes)
        }
        try checkEventCount(log.events.count)
        return log
    }

    /// Refuses more than ``maxEvents`` events.
    static func checkEventCount(_ count: Int) throws(EventLogError) {
        guard count <= maxEvents else {
            throw .invalidInput(field: "boot log", reason: "\(count) events, more than the limit of \(maxEvents)")
        }
    }
}
