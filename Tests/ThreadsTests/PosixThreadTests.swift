import Glibc
import Synchronization
import Testing
import Threads

@Suite("PosixThread")
struct PosixThreadTests {
    @Test("a joinable thread runs its closure once, on another thread, and is joined")
    func runs() throws {
        let ran = Mutex<[pthread_t]>([])
        let started = PosixThread.start { ran.withLock { $0.append(pthread_self()) } }
        let thread = try started.get()
        #expect(pthread_join(thread, nil) == 0)
        let threads = ran.withLock { $0 }
        #expect(threads.count == 1)
        #expect(threads.first.map { pthread_equal($0, pthread_self()) == 0 } == true)
    }

    @Test("signals given are blocked in the thread, and the creator's mask is as it was")
    func mask() throws {
        // From a creator whose mask is known: SIGTERM and SIGUSR2 unblocked (a test's own thread
        // may have either blocked).
        let seen = Mutex<(term: Bool, usr2: Bool, creatorTerm: Bool)?>(nil)
        let creator = try PosixThread.start {
            var open = sigset_t()
            sigemptyset(&open)
            sigaddset(&open, SIGTERM)
            sigaddset(&open, SIGUSR2)
            pthread_sigmask(SIG_UNBLOCK, &open, nil)
            let inner = Mutex<(term: Bool, usr2: Bool)>((false, false))
            guard
                let thread = try? PosixThread.start(
                    blocking: [SIGTERM],
                    {
                        var set = sigset_t()
                        pthread_sigmask(SIG_BLOCK, nil, &set)
                        inner.withLock { $0 = (sigismember(&set, SIGTERM) == 1, sigismember(&set, SIGUSR2) == 1) }
                    }
                ).get()
            else { return }
            pthread_join(thread, nil)
            var mine = sigset_t()
            pthread_sigmask(SIG_BLOCK, nil, &mine)
            let result = inner.withLock { $0 }
            seen.withLock { $0 = (result.term, result.usr2, sigismember(&mine, SIGTERM) == 1) }
        }.get()
        pthread_join(creator, nil)
        let result = try #require(seen.withLock { $0 })
        #expect(result.term, "SIGTERM blocked in the new thread")
        #expect(!result.usr2, "only the signals given are added")
        #expect(!result.creatorTerm, "the creator's mask is restored")
    }

    @Test("a detached thread runs")
    func detached() throws {
        let done = Mutex(false)
        var ends: [Int32] = [-1, -1]
        try #require(pipe(&ends) == 0)
        defer { for end in ends { close(end) } }
        let writeEnd = ends[1]
        _ = try PosixThread.start(detached: true) {
            done.withLock { $0 = true }
            var byte: UInt8 = 1
            _ = write(writeEnd, &byte, 1)
        }.get()
        var byte: UInt8 = 0
        #expect(read(ends[0], &byte, 1) == 1)
        #expect(done.withLock { $0 })
    }
}
