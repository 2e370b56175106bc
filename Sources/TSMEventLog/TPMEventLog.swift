import TSMBytes
import TSMModel

/// A TPM 2.0 boot log as firmware leaves it in `/sys/kernel/security/tpm0/binary_bios_measurements`:
/// a TCG2 crypto-agile log (TCG PC Client PFP 1.06, 10.2) of the SHA-256 bank, PCR indices 0-23.
///
/// It is made from the guest's boot log (``BootLog/synthetic(kernel:commandLine:)`` or a given
/// one): each event that extends an RTMR is the same event measured into the PCR a TPM firmware
/// measures it into (``pcr(for:)``), its digest SHA-256 of its event data (of a PCR 8 command
/// string, what follows grub's prefix without the NUL, as grub measures it).
public struct TPMEventLog: Sendable, Equatable {
    /// One `TCG_PCR_EVENT2` with one SHA-256 digest.
    public struct Event: Sendable, Equatable {
        public let pcr: Int
        public let type: TCGEventType
        public let digest: [UInt8]
        public let data: [UInt8]
    }

    /// `TPM_ALG_SHA256`.
    public static let sha256AlgorithmID: UInt16 = 0x000B
    /// A TPM's PCRs: 0-23.
    public static let pcrCount = 24
    /// The header firmware writes before a TPM 2.0 log: PCR 0, client class, spec 2.0, UINTN of
    /// 64 bits, SHA-256 only.
    public static let header = SpecIDEvent(
        mrIndex: 0, platformClass: 0, specVersionMinor: 0, specVersionMajor: 2, specErrata: 0, uintnSize: 2,
        algorithms: [SpecIDEvent.AlgorithmSize(algorithmID: sha256AlgorithmID, digestSize: 32)], vendorInfo: [])

    public let events: [Event]

    /// The prefixes grub's TPM verifier gives the strings it measures into PCR 8.
    static let grubPrefixes = ["kernel_cmdline: ", "module_cmdline: ", "grub_cmd: "].map { Array($0.utf8) }

    /// The TPM log of the boot `boot` describes (its events that extend an RTMR, in order).
    public init(boot: TCGEventLog) {
        events = boot.events.compactMap { event in
            guard let pcr = Self.pcr(for: event) else { return nil }
            // grub logs "kernel_cmdline: ARGS" (or "grub_cmd: ...") with its NUL into PCR 8 and
            // measures ARGS alone, without the NUL: what tpm2_eventlog checks.
            var measured = event.data[...]
            if pcr == 8 && event.type == .ipl, let prefix = Self.grubPrefixes.first(where: event.data.starts(with:)) {
                measured = event.data.dropFirst(prefix.count)
                if measured.last == 0 { measured = measured.dropLast() }
            }
            return Event(
                pcr: pcr, type: event.type, digest: HashAlgorithm.sha256.digest(Array(measured)), data: event.data)
        }
    }

    /// The PCR a TPM firmware measures a CC log's event into: the reverse of UEFI 2.10's
    /// table 38-6 (PCR 1 and 7 -> RTMR0, 2-6 -> RTMR1, 8-15 -> RTMR2), refined by type as EDK II
    /// and grub measure. RTMR0: firmware blobs PCR 0, Secure Boot configuration PCR 7, the rest
    /// (boot variables, separators) PCR 1. RTMR1: "Exit Boot Services" PCR 5, the rest (boot
    /// applications, "Calling EFI Application", separators) PCR 4. RTMR2: command lines (an
    /// `EV_IPL` string beginning `kernel_cmdline` or `grub_cmd`) PCR 8, files (other `EV_IPL`,
    /// `EV_EVENT_TAG`: the kernel, the initrd) PCR 9. RTMR3, which no TPM firmware has: PCR 14.
    /// Nil for `EV_NO_ACTION` and what is not an RTMR.
    public static func pcr(for event: TCGEvent) -> Int? {
        switch event.rtmr {
        case 0:
            if event.type == .efiPlatformFirmwareBlob2 || event.type.rawValue == 0x8000_0008 { return 0 }
            if event.type == .efiVariableDriverConfig || event.type == .efiVariableAuthority { return 7 }
            return 1
        case 1:
            return event.type == .efiAction && event.data.starts(with: Array("Exit Boot Services".utf8)) ? 5 : 4
        case 2:
            guard event.type == .ipl else { return 9 }
            let command =
                event.data.starts(with: Array("kernel_cmdline".utf8))
                || event.data.starts(with: Array("grub_cmd".utf8))
            return command ? 8 : 9
        case 3: return 14
        default: return nil
        }
    }

    /// The log's bytes: the Spec ID header, then each event.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.append(Self.header.encoded())
        for event in events {
            writer.u32(UInt32(event.pcr))
            writer.u32(event.type.rawValue)
            writer.u32(1)
            writer.u16(Self.sha256AlgorithmID)
            writer.append(event.digest)
            writer.u32(UInt32(truncatingIfNeeded: event.data.count))
            writer.append(event.data)
        }
        return writer.bytes
    }

    /// The SHA-256 PCRs 0-23 the log replays to from a TPM reset (every PCR zero).
    public func replay() -> [[UInt8]] {
        var pcrs = [[UInt8]](repeating: [UInt8](repeating: 0, count: 32), count: Self.pcrCount)
        for event in events {
            pcrs[event.pcr] = HashAlgorithm.sha256.extend(pcrs[event.pcr], with: event.digest)
        }
        return pcrs
    }

    /// The PCRs the log extends, ascending.
    public var measuredPCRs: [Int] {
        Array(Set(events.map(\.pcr))).sorted()
    }
}
