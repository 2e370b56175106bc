import Glibc

/// Why the virtual TPM cannot answer. Each case names the value and the limit or the cause; the
/// TPM devices answer a failure with ``errno`` (EIO for a TPM that is gone, as the kernel's
/// driver does when its chip stops answering).
public enum VTPMError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The program (`swtpm` or `swtpm_setup`) is not on PATH.
    case swtpmMissing(program: String)
    /// The state directory cannot be used (not absolute, a link, not ours, ...).
    case stateDirectory(path: String, reason: String)
    /// `swtpm_setup` (first start's provisioning) ended with `status`; its log is at `log`.
    case setupFailed(status: Int32, log: String)
    /// swtpm could not be started or did not become ready.
    case startFailed(reason: String)
    /// swtpm runs, but what tsmfs puts in it at start or after a reboot (a personality's keys and
    /// reports, the boot measurements) could not be made.
    case provisioning(reason: String)
    /// swtpm ended on its own (exit code, or 128 + signal).
    case died(status: Int32)
    /// swtpm refused the power cycle of a reboot (its control channel's CMD_INIT answered `result`,
    /// a TPM_RESULT); it was killed.
    case powerCycleRefused(result: UInt32)
    /// ``VirtualTPM/stop()`` was called.
    case stopped
    /// A system call on swtpm's sockets failed.
    case io(operation: String, errno: Int32)
    /// swtpm did not answer `operation` within `seconds`; it was killed.
    case timedOut(operation: String, seconds: Int)
    /// A command shorter than the 10-byte header (EINVAL), longer than TPM_BUFSIZE (E2BIG), or whose
    /// header size is 0 (ENODATA) or larger than the bytes given (E2BIG), as tpm_try_transmit checks.
    case commandRejected(reason: String, errno: Int32)
    /// swtpm's answer is not a TPM response of its own stated size (EFAULT in tpm_try_transmit).
    case responseMalformed(reason: String)
    /// A command tsmfs sent itself (provisioning, PCR access) failed with a TPM response code.
    case tpm(command: String, responseCode: UInt32)
    /// A certificate (`role`: the EK, an AK, a mock CA) could not be made.
    case certificate(role: String, reason: String)
    /// A `/dev/tpmrm0` space refused the command as tpm2-space.c does: EINVAL (a virtual handle
    /// the space does not have, a command shorter than its handles), ENOMEM (the space's 3 object
    /// or 3 session slots, or its 4096 bytes of saved contexts, are full), EFAULT (a saved
    /// context would not load or save), EINVAL too for a saved context that fails its integrity check
    /// (TPM_RC_INTEGRITY: one saved before the TPM was reset), ENOENT (an object flushed outside the space), EBADF (the
    /// space is closed).
    case space(reason: String, errno: Int32)

    /// The errno a TPM device answers this failure with.
    public var errno: Int32 {
        switch self {
        case .commandRejected(_, let errno), .space(_, let errno): return errno
        case .responseMalformed: return EFAULT
        default: return EIO
        }
    }

    /// One line naming the value and the cause, for the log and the command line.
    public var description: String {
        switch self {
        case .swtpmMissing(let program):
            return "\(program) not found on PATH: the vTPM needs the Debian packages swtpm and swtpm-tools "
                + "(apt-get install swtpm swtpm-tools)"
        case .stateDirectory(let path, let reason): return "vTPM state directory \(path): \(reason)"
        case .setupFailed(let status, let log):
            return "swtpm_setup failed with exit status \(status) (its log: \(log))"
        case .startFailed(let reason): return "swtpm did not start: \(reason)"
        case .provisioning(let reason): return "cannot provision the vTPM: \(reason)"
        case .died(let status): return "swtpm died (exit status \(status))"
        case .powerCycleRefused(let result):
            return "swtpm refused CMD_INIT (TPM_RESULT 0x\(String(result, radix: 16))); it was killed"
        case .stopped: return "the vTPM is stopped"
        case .io(let operation, let errno):
            return "vTPM \(operation): \(String(cString: strerror(errno))) (errno \(errno))"
        case .timedOut(let operation, let seconds):
            return "swtpm did not answer \(operation) within \(seconds) s; it was killed"
        case .commandRejected(let reason, _): return "TPM command rejected: \(reason)"
        case .responseMalformed(let reason): return "malformed TPM response: \(reason)"
        case .tpm(let command, let code):
            return "\(command) failed: \(TPMResponseCode(code))"
        case .certificate(let role, let reason): return "\(role) certificate: \(reason)"
        case .space(let reason, _): return "TPM space: \(reason)"
        }
    }
}
