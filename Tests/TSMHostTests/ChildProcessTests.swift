import Glibc
import SystemPackage
import Testing
import TSMHost

/// posix_spawn, the exit status as a shell reports it, and the reset signal state of the child.
@Suite struct ChildProcessTests {
    @Test func exitCodeIsReported() throws {
        #expect(try ChildProcess(["true"]).wait() == 0)
        #expect(try ChildProcess(["sh", "-c", "exit 7"]).wait() == 7)
        #expect(try ChildProcess(["sh", "-c", "exit 255"]).wait() == 255)
    }

    @Test func deathBySignalIs128PlusTheSignal() throws {
        #expect(try ChildProcess(["sh", "-c", "kill -KILL $$"]).wait() == 128 + SIGKILL)
    }

    @Test func pollIsNilWhileRunningThenSignalEndsIt() throws {
        let child = try ChildProcess(["sleep", "60"])
        #expect(child.poll() == nil)
        child.signal(SIGTERM)
        #expect(child.wait() == 128 + SIGTERM)
    }

    @Test func pollOfAReapedChildIs127() throws {
        let child = try ChildProcess(["true"])
        #expect(child.wait() == 0)
        // waitpid answers ECHILD once the child is reaped: the status is lost, 127 says so.
        #expect(child.poll() == 127)
        #expect(child.wait() == 127)
    }

    @Test func pollReportsTheStatusOnceTheChildHasExited() throws {
        let child = try ChildProcess(["sh", "-c", "exit 3"])
        // Block until the child has exited without reaping it (WNOWAIT): poll must then see it.
        var info = siginfo_t()
        #expect(waitid(P_PID, id_t(child.pid), &info, WEXITED | WNOWAIT) == 0)
        #expect(child.poll() == 3)
    }

    @Test func theChildStartsWithAnEmptySignalMask() throws {
        // This thread blocks SIGUSR1; the child must not inherit that, so SIGUSR1 kills it.
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR1)
        #expect(pthread_sigmask(SIG_BLOCK, &blocked, &previous) == 0)
        let child: ChildProcess
        do {
            defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
            child = try ChildProcess(["sleep", "60"])
        }
        child.signal(SIGUSR1)
        #expect(child.wait() == 128 + SIGUSR1)
    }

    @Test func noCommandIsRefused() {
        #expect(throws: ChildProcess.Failure.self) { try ChildProcess([]) }
        do {
            _ = try ChildProcess([])
        } catch {
            #expect(error.description == "no command given")
        }
    }

    @Test func aMissingProgramIsRefusedWithItsErrno() {
        let program = "tsmfs-no-such-program-\(getpid())"
        do {
            let child = try ChildProcess([program])
            Issue.record("spawned a missing program: status \(child.wait())")
        } catch {
            guard case .cannotRun(let name, let errno) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(name == program)
            #expect(errno == .noSuchFileOrDirectory)
            #expect(error.description.hasPrefix("cannot run \(program): "))
        }
    }
}
