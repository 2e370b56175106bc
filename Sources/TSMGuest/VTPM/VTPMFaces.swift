import Glibc
import Logging
import SystemPackage
import TSMBackends
import TSMEventLog
import TSMModel
import TSMTPM
import TSMTree

/// A vTPM started for a mount whose faces are not yet added.
public struct RunningVTPM: Sendable {
    public let kind: VTPMKind
    public let tpm: VirtualTPM
    /// Stops swtpm and removes a private state directory.
    public let stop: @Sendable () -> Void
}

/// The paths a vTPM adds to a guest sysroot, as Linux's TPM driver shows them.
public enum VTPMPaths {
    public static let device = "dev/tpm0"
    public static let resourceManager = "dev/tpmrm0"
    public static let versionMajor = "sys/class/tpm/tpm0/tpm_version_major"
    public static let bootLog = "sys/kernel/security/tpm0/binary_bios_measurements"
}

/// A guest's vTPM, whole: swtpm started for the mount (its state beside `--state`, else in a
/// private directory removed at stop), the boot log extended into its PCRs at every start (each
/// is a TPM reset) and at every `tsmfs ctl reboot` (``VirtualTPM/reboot(boot:)``), its two
/// devices, its boot log and version files, and its PCRs as the `tpm` provider.
public enum VTPMFaces {
    /// Starts the vTPM of `kind` and adds its faces to `faces`; the boot log is `boot`'s. The
    /// engine's personality is `personality`, or the kind's own when it needs nothing of the guest
    /// (``personality(_:)``). A vTPM that cannot start (swtpm missing, a state directory it cannot
    /// use, PCRs that hold neither zero nor the log's replay) refuses the mount, naming why, with
    /// swtpm stopped.
    public static func add<Settings>(
        _ kind: VTPMKind, personality: (any VTPMPersonality)? = nil, boot: TCGEventLog, to faces: inout GuestFaces,
        context: GuestContext<Settings>
    ) throws(AssemblyError) {
        let running = try start(kind, personality: personality ?? Self.personality(kind), context: context)
        try add(running, boot: boot, to: &faces, context: context)
    }

    /// The engine personality of a kind that needs nothing of the guest: GCE's for `gcp`, none
    /// (a plain TPM) for the others.
    public static func personality(_ kind: VTPMKind) -> (any VTPMPersonality)? {
        kind == .gcp ? GCPPersonality() : nil
    }

    /// Starts swtpm for the mount with `personality` provisioned (for a guest that needs the TPM
    /// before its faces, as an SVSM's manifest needs the EK). The caller adds its faces with
    /// ``add(_:boot:to:context:)`` or, when it fails first, calls ``RunningVTPM/stop``.
    public static func start<Settings>(
        _ kind: VTPMKind, personality: (any VTPMPersonality)?, context: GuestContext<Settings>
    ) throws(AssemblyError) -> RunningVTPM {
        let log = context.log, errorLog = context.errorLog
        let (directory, temporary) = try stateDirectory(context.state)
        let tpm: VirtualTPM
        let logger = Logger(label: "tsmfs.vtpm") { _ in AssemblyLogHandler(log: log, errorLog: errorLog) }
        do {
            tpm = try VirtualTPM.start(
                VTPMConfiguration(stateDirectory: directory, seed: context.spec.seed, personality: personality),
                logger: logger)
        } catch {
            if temporary { removeTree(directory) }
            throw .vtpm("cannot start the vTPM (\(kind.rawValue)): \(error)")
        }
        return RunningVTPM(kind: kind, tpm: tpm) {
            tpm.stop()
            if temporary { removeTree(directory) }
        }
    }

    /// Adds a started vTPM's faces (its boot log `boot`'s, extended into its PCRs) to `faces`;
    /// stops it when they cannot be made.
    public static func add<Settings>(
        _ running: RunningVTPM, boot: TCGEventLog, to faces: inout GuestFaces, context: GuestContext<Settings>
    ) throws(AssemblyError) {
        let errorLog = context.errorLog, tpm = running.tpm, stop = running.stop
        let bank = VTPMBank(tpm: tpm, errorLog: errorLog)
        let banks: [HashAlgorithm]
        do {
            banks = try bank.banks()
        } catch {
            stop()
            throw .vtpm("cannot read the vTPM's PCR banks: \(error)")
        }
        let eventLog = TPMEventLog(boot: boot, banks: banks)
        // The boot's measurements, the same at start and at every reboot.
        let measureBoot: @Sendable (HeldTPM) throws(VTPMError) -> Void = { held throws(VTPMError) in
            try VTPMBank.measureBoot(eventLog, on: held)
        }
        do {
            try tpm.holding(measureBoot)
        } catch {
            stop()
            throw .vtpm("cannot extend the boot log into the vTPM's PCRs: \(error)")
        }
        let provider: MeasurementProvider
        do {
            provider = try MeasurementProvider(
                BuiltinProviders.tpm(banks: banks), backend: TPMBackend(bank: bank, banks: banks))
        } catch {
            stop()
            throw .registration(error)
        }
        let gate = TPMOpenGate()
        let direct = TPMDevice(.direct, gate: gate) {
            VTPMSink(
                log: errorLog, provider: provider,
                transmit: { command throws(VTPMError) in
                    try tpm.transmit(command)
                })
        }
        // Each open file of /dev/tpmrm0 its own space, flushed when the file is released.
        let spaced = TPMDevice(.spaced, gate: gate) {
            let space = TPMSpace(tpm: tpm)
            return VTPMSink(
                log: errorLog, provider: provider,
                transmit: { command throws(VTPMError) in try space.transmit(command) }, close: { space.close() })
        }
        let logBytes = eventLog.encoded()
        faces.files += [
            (VTPMPaths.device, direct),
            (VTPMPaths.resourceManager, spaced),
            (VTPMPaths.versionMajor, TextAttribute("2\n")),
            // securityfs: -r--r----- root root.
            (VTPMPaths.bootLog, BytesAttribute(logBytes, permissions: 0o440)),
        ]
        faces.outsideProviders.append(provider)
        faces.stops.append(stop)
        faces.reboots.append { try reboot(tpm, provider: provider, boot: measureBoot) }
    }

    /// `tsmfs ctl reboot`'s part for the vTPM: ``VirtualTPM/reboot(boot:)``; whatever happens, the
    /// `tpm` provider reads the PCRs again.
    static func reboot(
        _ tpm: VirtualTPM, provider: MeasurementProvider, boot: (HeldTPM) throws(VTPMError) -> Void
    ) throws(RebootFailure) {
        defer { provider.markOutOfSync() }
        do {
            try tpm.reboot(boot: boot)
        } catch {
            throw RebootFailure("the vTPM did not reboot: \(error)")
        }
    }

    /// `FILE.vtpm` beside `--state`'s FILE (absolute: swtpm changes directory to `/`), made if
    /// missing; without `--state`, a private temporary directory (true: removed at stop).
    static func stateDirectory(_ state: String?) throws(AssemblyError) -> (String, Bool) {
        guard let state else {
            var template = Array("/tmp/tsmfs-vtpm.XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else {
                throw .vtpm("cannot make a directory for the vTPM's state in /tmp: \(Errno(rawValue: errno))")
            }
            return (String(decoding: UnsafeRawBufferPointer(start: made, count: strlen(made)), as: UTF8.self), true)
        }
        var path = state + ".vtpm"
        if !path.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            guard getcwd(&buffer, buffer.count) != nil else {
                throw .vtpm("cannot resolve \(path): \(Errno(rawValue: errno))")
            }
            path = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/" + path
        }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw .vtpm("cannot make the vTPM's state directory \(path): \(Errno(rawValue: errno))")
        }
        return (path, false)
    }

    /// Removes a private directory and what swtpm left in it (files only: it makes no
    /// subdirectories).
    static func removeTree(_ path: String) {
        if let directory = opendir(path) {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(directory)
        }
        rmdir(path)
    }
}

/// One open device file's way to the vTPM: a failure is logged and answered with its errno (EIO
/// for a TPM gone, as the kernel's driver answers when its chip stops); every command
/// may change PCRs, so the `tpm` provider reads them again.
final class VTPMSink: TPMCommandSink {
    private let log: Assembly.Log
    private let provider: MeasurementProvider
    private let send: @Sendable ([UInt8]) throws(VTPMError) -> [UInt8]
    private let onClose: @Sendable () -> Void

    init(
        log: @escaping Assembly.Log, provider: MeasurementProvider,
        transmit: @escaping @Sendable ([UInt8]) throws(VTPMError) -> [UInt8],
        close: @escaping @Sendable () -> Void = {}
    ) {
        self.log = log
        self.provider = provider
        self.send = transmit
        self.onClose = close
    }

    func transmit(_ command: [UInt8]) throws(Errno) -> [UInt8] {
        defer { provider.markOutOfSync() }
        do {
            return try send(command)
        } catch {
            let errno = Errno(rawValue: error.errno)
            log("vTPM: a command through a device file failed, answered \(errno): \(error)")
            throw errno
        }
    }

    func close() {
        onClose()
    }
}
