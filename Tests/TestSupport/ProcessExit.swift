import CLinux
import Glibc

/// The end of one process, observed through a pidfd (pidfd_open(2)): it polls readable once the
/// process has ended, so waiting for it is a `poll`, never a loop of checks and sleeps.
///
/// Open it while the process cannot have been reaped yet (a child of ours, right after it was
/// spawned), or for any process that `pid` names now: a pidfd stays tied to that process.
public final class ProcessExit {
    /// The pidfd, or -1 when the process was already gone (ESRCH) as this was opened.
    public let descriptor: Int32
    public let pid: pid_t

    public init(_ pid: pid_t) {
        self.pid = pid
        descriptor = clinux_pidfd_open(pid)
    }

    /// Whether the process has ended (at once, without waiting).
    public var hasEnded: Bool { !wait(milliseconds: 0) }

    /// Waits until the process ends or `deadline` passes; true when it ended.
    @discardableResult
    public func wait(within deadline: Duration) -> Bool {
        let clock = ContinuousClock(), end = clock.now + deadline
        while true {
            let left = clock.now.duration(to: end)
            if !wait(milliseconds: max(0, milliseconds(left))) { return true }
            if clock.now >= end { return false }
        }
    }

    /// One poll of at most `milliseconds`; false when the process has ended.
    private func wait(milliseconds: Int32) -> Bool {
        guard descriptor >= 0 else { return false }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, milliseconds)
        return !(ready == 1 && entry.revents != 0)
    }

    deinit { if descriptor >= 0 { close(descriptor) } }
}

/// `duration` in whole milliseconds for poll(2), rounded up and capped at Int32.max.
public func milliseconds(_ duration: Duration) -> Int32 {
    let (seconds, attoseconds) = duration.components
    let total = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    return Int32(clamping: total)
}
