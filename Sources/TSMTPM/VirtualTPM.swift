import Glibc
import Logging
import Synchronization
import TSMBytes
import TSMEvidence

/// A real TPM 2.0 behind tsmfs's TPM devices: one swtpm process with its state in a private
/// directory, started, provisioned (the RSA EK at 0x81010001 and its certificate at NV
/// 0x01C00002, signed by the seeded mock EK CA) and stopped by its owner. Commands are sent one
/// at a time, as the kernel's tpm_mutex serialises them. No FUSE: the devices are tsmfs's door.
/// swtpm receives SIGKILL when tsmfs ends, however it ends (PR_SET_PDEATHSIG, set from a thread
/// that never ends: ``SpawnerThread``).
public final class VirtualTPM: Sendable {
    /// What the vTPM was started with.
    public let configuration: VTPMConfiguration
    let logger: Logger
    let state: Mutex<State>
    /// Held for one command, or for a space's whole sequence (``exclusive(_:)``).
    private let serial = Mutex<Void>(())
    /// TPM2_GetCapability(TPM_CAP_COMMANDS)'s TPMA_CC of every command, read once (tpm2-space).
    let commandAttributes = Mutex<[UInt32]?>(nil)

    struct State {
        var channel: SwtpmChannel?
        /// Set when swtpm is gone: what every later command throws.
        var failure: VTPMError?
    }

    private init(configuration: VTPMConfiguration, logger: Logger, channel: SwtpmChannel) {
        self.configuration = configuration
        self.logger = logger
        self.state = Mutex(State(channel: channel))
    }

    /// Starts the vTPM of `configuration`: prepares the state directory, provisions it with
    /// swtpm_setup when it holds no TPM state yet, starts swtpm and waits for its control channel,
    /// then makes sure NV 0x01C00002 holds the EK certificate of this seed. Throws
    /// ``VTPMError/swtpmMissing(program:)`` when swtpm is not installed.
    public static func start(_ configuration: VTPMConfiguration, logger: Logger) throws(VTPMError) -> VirtualTPM {
        if try !SwtpmLauncher.prepare(configuration.stateDirectory) {
            try SwtpmLauncher.provision(configuration, logger: logger)
        }
        let channel = try SwtpmLauncher.launch(configuration)
        let tpm = VirtualTPM(configuration: configuration, logger: logger, channel: channel)
        do {
            try EKProvisioning.ensureCertificate(tpm, seed: configuration.seed)
            try configuration.personality?.provision(tpm)
        } catch {
            tpm.stop()
            throw error
        }
        logger.info(
            "vTPM started", metadata: ["swtpm pid": "\(channel.pid)", "directory": "\(configuration.stateDirectory)"])
        return tpm
    }

    /// swtpm's process id while it runs (tests kill it to see the devices fail).
    public var processID: pid_t? { state.withLock { $0.failure == nil ? $0.channel?.pid : nil } }

    /// Sends one command and returns its response, as tpm_transmit does: a command shorter than
    /// the header is EINVAL, longer than TPM_BUFSIZE (4096) E2BIG, a header size of 0 ENODATA,
    /// a header size larger than the bytes given E2BIG (``VTPMError/commandRejected(reason:errno:)``);
    /// the header's size of bytes is sent. A response that is not one of its own stated size
    /// (at most 4096) is EFAULT. When swtpm has died this throws ``VTPMError/died(status:)`` (logged
    /// once), when it hangs past the configured timeout it is killed and this throws
    /// ``VTPMError/timedOut(operation:seconds:)``; both are EIO, for this and every later command.
    /// With a ``VTPMConfiguration/personality``, the few commands it answers do not reach swtpm.
    public func transmit(_ command: [UInt8]) throws(VTPMError) -> [UInt8] {
        try serial.withLock { _ throws(VTPMError) -> [UInt8] in try send(command) }
    }

    /// Runs `body` with the TPM to itself: no other command reaches swtpm until it returns (the
    /// kernel holds tpm_mutex across a space's ContextLoad, command, ContextSave and flushes).
    /// `body` sends with ``send(_:)``, never ``transmit(_:)``.
    func exclusive<Result>(_ body: () throws(VTPMError) -> Result) throws(VTPMError) -> Result {
        try serial.withLock { _ throws(VTPMError) -> Result in try body() }
    }

    /// ``transmit(_:)`` without taking the command lock (the caller holds it): through the
    /// personality, if any, so `/dev/tpm0` and every `/dev/tpmrm0` space see the same one.
    func send(_ command: [UInt8]) throws(VTPMError) -> [UInt8] {
        guard let personality = configuration.personality else { return try forward(command) }
        let count = try Self.checkedSize(command)
        let sized = Array(command[0..<count])
        if let answer = try personality.answer(sized, tpm: self) { return answer }
        let response = try forward(sized)
        personality.observe(sized, response: response, tpm: self)
        return response
    }

    /// The command to swtpm, skipping the personality and the command lock: what a personality
    /// sends itself, from inside its hook (the lock is held) or while it provisions (at start).
    public func forward(_ command: [UInt8]) throws(VTPMError) -> [UInt8] {
        let count = try Self.checkedSize(command)
        let seconds = configuration.commandTimeoutSeconds
        return try state.withLock { (state) throws(VTPMError) -> [UInt8] in
            if let failure = state.failure { throw failure }
            guard var channel = state.channel else { throw VTPMError.stopped }
            do throws(VTPMError) {
                // tpm_transmit's loop: TPM2_RC_RETRY and TPM2_RC_TESTING are sent again after 20 ms,
                // doubling, while the delay is at most TPM2_DURATION_LONG (2 s); then answered as is.
                var delay: UInt32 = 20
                while let response = try Self.exchange(Array(command[0..<count]), channel: channel, seconds: seconds) {
                    let code = UInt32(bigEndianBytes: response[6..<10])
                    guard code == 0x922 || code == 0x90A, delay <= 2000 else { return response }
                    usleep(delay * 1000)
                    delay *= 2
                }
                let status = channel.reap(grace: 5)
                logger.error("vTPM: swtpm died", metadata: ["exit status": "\(status)"])
                throw VTPMError.died(status: status)
            } catch {
                retire(&state, channel: &channel, error: error)
                throw error
            }
        }
    }

    /// swtpm gone or useless: killed unless it died, its descriptors closed, and `error` what
    /// every later command throws.
    func retire(_ state: inout State, channel: inout SwtpmChannel, error: VTPMError) {
        if case .died = error {
        } else {
            logger.error("vTPM: swtpm failed; killed", metadata: ["error": "\(error)"])
            _ = channel.reap(grace: 0)
        }
        channel.close()
        state.channel = nil
        state.failure = error
    }

    /// The size tpm_try_transmit sends, or its refusal. One departure: a header size of 1 to 9
    /// is EINVAL, where the kernel would hand those bytes to the TPM (the reference TPM answers
    /// TPM_RC_INSUFFICIENT or TPM_RC_BAD_TAG): swtpm's socket waits for a whole header instead,
    /// and a vTPM hung until its command timeout kills it would be worse for every other client.
    static func checkedSize(_ command: [UInt8]) throws(VTPMError) -> Int {
        guard command.count >= 10 else {
            throw .commandRejected(reason: "\(command.count) bytes, shorter than the 10-byte header", errno: EINVAL)
        }
        guard command.count <= TPM2Commands.bufferSize else {
            throw .commandRejected(
                reason: "\(command.count) bytes, more than TPM_BUFSIZE (\(TPM2Commands.bufferSize))", errno: E2BIG)
        }
        let size = Int(UInt32(bigEndianBytes: command[2..<6]))
        guard size != 0 else { throw .commandRejected(reason: "header size 0", errno: ENODATA) }
        guard size >= 10 else {
            throw .commandRejected(reason: "header size \(size), shorter than the 10-byte header", errno: EINVAL)
        }
        guard size <= command.count else {
            throw .commandRejected(
                reason: "header size \(size) larger than the \(command.count) bytes given", errno: E2BIG)
        }
        return size
    }

    /// One command on swtpm's socket and its whole response; nil when swtpm closed or ended.
    private static func exchange(_ command: [UInt8], channel: SwtpmChannel, seconds: Int) throws(VTPMError)
        -> [UInt8]?
    {
        let deadline = Deadline(seconds: seconds)
        do {
            try channel.send(command, to: channel.data, operation: "send")
        } catch {
            if case .io(_, let code) = error, code == EPIPE || code == ECONNRESET { return nil }
            throw error
        }
        return try channel.receiveResponse(deadline: deadline)
    }

    /// Shuts swtpm down (CMD_SHUTDOWN on its control channel, which saves nothing volatile: the
    /// next start is a TPM2_Startup(CLEAR)), then SIGKILL if it has not ended within 5 seconds.
    /// Later commands throw ``VTPMError/stopped``. Idempotent.
    public func stop() {
        state.withLock { state in
            guard var channel = state.channel else { return }
            if state.failure == nil {
                _ = try? channel.control(SwtpmLauncher.shutdown, answer: 4, deadline: Deadline(seconds: 5))
            }
            _ = channel.reap(grace: 5)
            channel.close()
            unlink("\(configuration.stateDirectory)/\(SwtpmLauncher.socketName)")
            state.channel = nil
            state.failure = .stopped
        }
    }

    deinit { stop() }

    /// The PEM certificate of the mock EK CA of `seed` that signs every vTPM's EK certificate
    /// (for `tsmfs trust-anchor`).
    public static func ekCertificateAuthority(seed: String) throws(VTPMError) -> String {
        do {
            return try TPMEKAuthority(seed: seed).rootCertificatePEM
        } catch {
            throw .certificate(role: "EK CA", reason: "\(error)")
        }
    }
}
