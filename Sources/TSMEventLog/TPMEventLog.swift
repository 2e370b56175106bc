import TSMBytes
import TSMModel

/// A TPM 2.0 boot log as firmware leaves it in `/sys/kernel/security/tpm0/binary_bios_measurements`:
/// a TCG2 crypto-agile log (TCG PC Client PFP 1.06, 10.2) of the TPM's active PCR banks (SHA-256
/// first), PCR indices 0-23.
///
/// It is made from the guest's boot log (``BootLog/synthetic(kernel:commandLine:)`` or a given
/// one): each event that extends an RTMR is the same event measured into the PCR a TPM firmware
/// measures it into (``pcr(for:)``), its digest in each bank the hash of its event data (of a PCR 8
/// command string, what follows grub's prefix without the NUL, as grub measures it).
public struct TPMEventLog: Sendable, Equatable {
    /// One `TCG_PCR_EVENT2`: a digest per bank of the log, in the log's bank order.
    public struct Event: Sendable, Equatable {
        public let pcr: Int
        public let type: TCGEventType
        public let digests: [[UInt8]]
        public let data: [UInt8]
    }

    /// A TPM's PCRs: 0-23.
    public static let pcrCount = 24

    /// The banks the log lists, SHA-256 first.
    public let banks: [HashAlgorithm]
    public let events: [Event]

    /// `TPM_ALG_SHA256`, `TPM_ALG_SHA384`, `TPM_ALG_SHA512`.
    public static func algorithmID(_ bank: HashAlgorithm) -> UInt16 {
        switch bank {
        case .sha256: 0x000B
        case .sha384: 0x000C
        case .sha512: 0x000D
        }
    }

    /// The header firmware writes before a TPM 2.0 log: PCR 0, client class, spec 2.0, UINTN of
    /// 64 bits, the banks' algorithms and digest sizes.
    public var header: SpecIDEvent {
        SpecIDEvent(
            mrIndex: 0, platformClass: 0, specVersionMinor: 0, specVersionMajor: 2, specErrata: 0, uintnSize: 2,
            algorithms: banks.map {
                SpecIDEvent.AlgorithmSize(algorithmID: Self.algorithmID($0), digestSize: UInt16($0.digestSize))
            }, vendorInfo: [])
    }

    /// The prefixes grub's TPM verifier gives the strings it measures into PCR 8.
    static let grubPrefixes = ["kernel_cmdline: ", "module_cmdline: ", "grub_cmd: "].map { Array($0.utf8) }

    /// The TPM log of the boot `boot` describes (its events that extend an RTMR, in order), with a
    /// digest in each of `banks`.
    public init(boot: TCGEventLog, banks: [HashAlgorithm] = [.sha256]) {
        self.banks = banks
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
                pcr: pcr, type: event.type, digests: banks.map { $0.digest(Array(measured)) }, data: event.data)
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
        writer.append(header.encoded())
        for event in events {
            writer.u32(UInt32(event.pcr))
            writer.u32(event.type.rawValue)
            writer.u32(UInt32(banks.count))
            for (bank, digest) in zip(banks, event.digests) {
                writer.u16(Self.algorithmID(bank))
                writer.append(digest)
            }
            writer.u32(UInt32(truncatingIfNeeded: event.data.count))
            writer.append(event.data)
        }
        return writer.bytes
    }

    /// PCRs 0-23 of `bank` (one of the log's; SHA-256 by default) the log replays to from a TPM
    /// reset (every PCR zero); all zero for a bank the log does not list.
    public func replay(bank: HashAlgorithm = .sha256) -> [[UInt8]] {
        var pcrs = [[UInt8]](repeating: [UInt8](repeating: 0, count: bank.digestSize), count: Self.pcrCount)
        guard let position = banks.firstIndex(of: bank) else { return pcrs }
        for event in events {
            pcrs[event.pcr] = bank.extend(pcrs[event.pcr], with: event.digests[position])
        }
        return pcrs
    }

    /// The PCRs the log extends, ascending.
    public var measuredPCRs: [Int] {
        Array(Set(events.map(\.pcr))).sorted()
    }
}
