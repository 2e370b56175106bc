import CLinux
import Dispatch
import Glibc
import Synchronization
import Threads

/// The one thread every swtpm is forked from. PR_SET_PDEATHSIG fires when the *thread* that
/// forked the child ends, not the process: forked from a FUSE worker or a Dispatch thread, which
/// come and go, swtpm would be killed under a live mount. This thread is never ended, so swtpm
/// dies with the process and only then.
final class SpawnerThread: Sendable {
    static let shared = SpawnerThread()

    /// The jobs for the thread and the semaphore that wakes it.
    private final class Queue: Sendable {
        let jobs = Mutex<[@Sendable () -> Void]>([])
        let wake = DispatchSemaphore(value: 0)
    }

    private let queue = Queue()
    /// False when the thread could not be created: spawns then happen on the caller's thread.
    private let running: Bool

    private init() {
        let queue = self.queue
        let loop: @Sendable () -> Void = {
            while true {
                queue.wake.wait()
                let job = queue.jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                job?()
            }
        }
        running = (try? PosixThread.start(detached: true, loop).get()) != nil
    }

    /// clinux_spawn_reaping(arguments[0], arguments, SIGKILL, keeping, output, reap) on this thread:
    /// the errno (0 on success) and the pid (with `reap`, the reaper's, whose status is the program's).
    func spawn(
        _ arguments: [String], keeping: [Int32], output: Int32 = -1, reap: Bool = false
    ) -> (result: Int32, pid: pid_t) {
        let job: @Sendable () -> (Int32, pid_t) = {
            var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
            argv.append(nil)
            defer { for pointer in argv { free(pointer) } }
            var pid = pid_t()
            let result = keeping.withUnsafeBufferPointer { keep in
                clinux_spawn_reaping(
                    arguments[0], argv, SIGKILL, keep.baseAddress, Int32(keep.count), output, reap ? 1 : 0, &pid)
            }
            return (result, pid)
        }
        guard running else { return job() }
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<(Int32, pid_t)>((ENOEXEC, 0))
        queue.jobs.withLock {
            $0.append {
                let result = job()
                outcome.withLock { $0 = result }
                done.signal()
            }
        }
        queue.wake.signal()
        done.wait()
        return outcome.withLock { $0 }
    }
}
