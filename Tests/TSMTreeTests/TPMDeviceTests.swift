import Foundation
import FuseKit
import Synchronization
import SystemPackage
import TSMTree
import Testing

/// A TPM that answers each command with a response of `responseSize` bytes whose last bytes count
/// the commands, or fails with EIO once `dead` is set.
final class FakeSink: TPMCommandSink {
    let responseSize: Int
    let state = Mutex((commands: 0, dead: false, closed: false))

    init(responseSize: Int = 30) {
        self.responseSize = responseSize
    }

    func transmit(_ command: [UInt8]) throws(Errno) -> [UInt8] {
        let count = try state.withLock {
            (state: inout (commands: Int, dead: Bool, closed: Bool)) throws(Errno) -> Int in
            if state.dead { throw .ioError }
            state.commands += 1
            return state.commands
        }
        return [0x80, 0x01] + bigEndian(UInt32(responseSize)) + [0, 0, 0, 0]
            + (10..<responseSize).map { UInt8(truncatingIfNeeded: $0 &+ count) }
    }

    func close() {
        state.withLock { $0.closed = true }
    }
}

private func bigEndian(_ value: UInt32) -> [UInt8] {
    [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) }
}

/// A TPM2_GetRandom command of 12 bytes.
private let command: [UInt8] = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 8]

private func write(_ file: any OpenFile, _ bytes: [UInt8], offset: Int64 = 0) throws(Errno) -> Int {
    var result: Result<Int, Errno> = .failure(.ioError)
    bytes.withUnsafeBytes { buffer in
        do throws(Errno) {
            result = .success(try file.write(offset: offset, data: buffer))
        } catch {
            result = .failure(error)
        }
    }
    return try result.get()
}

@Suite("TPM device files (tpm-dev-common.c)")
struct TPMDeviceTests {
    let sink = FakeSink()
    let gate = TPMOpenGate()

    func device(_ kind: TPMDevice.Kind) -> TPMDevice {
        let sink = self.sink
        return TPMDevice(kind, gate: gate) { sink }
    }

    func open(_ kind: TPMDevice.Kind, flags: Int32 = 0o2) throws -> any OpenFile {
        try #require(try device(kind).open(flags: OpenFlags(rawValue: flags)))
    }

    @Test("a write sends one command; reads return its response, in parts, whatever the offset")
    func partialReads() throws {
        let file = try open(.spaced)
        #expect(try write(file, command, offset: 999) == 12)
        let head = try file.read(offset: 4242, count: 10)
        let rest = try file.read(offset: 0, count: 4096)
        #expect(head.count == 10 && rest.count == 20)
        #expect(Array(head[2..<6]) == [0, 0, 0, 30])
        #expect(try file.read(offset: 0, count: 4096) == [])
        #expect(try write(file, command) == 12)
        #expect(try file.read(offset: 30, count: 4096).count == 30)
        #expect(sink.state.withLock { $0.commands } == 2)
    }

    @Test("a read with nothing pending returns 0 bytes")
    func readNothing() throws {
        #expect(try open(.direct).read(offset: 0, count: 4096) == [])
    }

    @Test("sizes: more than TPM_BUFSIZE is E2BIG; short of a header or of commandSize is EINVAL")
    func sizes() throws {
        let file = try open(.spaced)
        #expect(throws: Errno.argListTooLong) { try write(file, command + [UInt8](repeating: 0, count: 4085)) }
        #expect(throws: Errno.invalidArgument) { try write(file, [0x80, 0x01, 0, 0, 0]) }
        #expect(throws: Errno.invalidArgument) { try write(file, Array(command.prefix(11))) }
        #expect(sink.state.withLock { $0.commands } == 0)
        // A command longer than its commandSize goes as written (the driver checks only "shorter").
        #expect(try write(file, command + [0]) == 13)
    }

    @Test("a second write before the response is read is EBUSY; after a partial read it is accepted")
    func busy() throws {
        let file = try open(.spaced)
        _ = try write(file, command)
        #expect(throws: Errno.resourceBusy) { try write(file, command) }
        #expect(try file.read(offset: 0, count: 4).count == 4)
        _ = try write(file, command)
        #expect(try file.read(offset: 0, count: 4096).count == 30)
    }

    @Test("/dev/tpm0 has one opener: a second open is EBUSY until the first is released")
    func exclusive() throws {
        let first = try open(.direct)
        #expect(throws: Errno.resourceBusy) { try device(.direct).open(flags: OpenFlags(rawValue: 2)) }
        let spaced = try open(.spaced)
        first.release()
        let again = try open(.direct)
        again.release()
        spaced.release()
        #expect(sink.state.withLock { $0.closed })
        #expect(spaced.nonSeekable && !again.nonSeekable)
    }

    @Test("an open waits for a closed file's release (FUSE releases after close(2) returned)")
    func reopenAfterClose() throws {
        let first = try open(.direct)
        try first.flush()
        // The second open runs on a thread of its own; the release comes once it is seen waiting.
        let outcome = Mutex<Result<Bool, Errno>?>(nil)
        let device = device(.direct)
        let opener = Thread {
            do throws(Errno) {
                let file = try device.open(flags: OpenFlags(rawValue: 2))
                file?.release()
                outcome.withLock { $0 = .success(file != nil) }
            } catch {
                outcome.withLock { $0 = .failure(error) }
            }
        }
        opener.start()
        while gate.waitingOpens == 0 && outcome.withLock({ $0 == nil }) { sched_yield() }
        #expect(outcome.withLock { $0 == nil }, "the open did not wait")
        first.release()
        while outcome.withLock({ $0 == nil }) { sched_yield() }
        #expect(try outcome.withLock { $0 }?.get() == true)
        #expect(gate.waitingOpens == 0)
    }

    @Test("a dead TPM: EIO from the write; with O_NONBLOCK from the next read")
    func dead() throws {
        sink.state.withLock { $0.dead = true }
        let blocking = try open(.spaced)
        #expect(throws: Errno.ioError) { try write(blocking, command) }
        let nonBlocking = try open(.spaced, flags: 0o2 | 0o4000)
        #expect(try write(nonBlocking, command) == 12)
        #expect(throws: Errno.resourceBusy) { try write(nonBlocking, command) }
        #expect(throws: Errno.ioError) { try nonBlocking.read(offset: 0, count: 4096) }
        #expect(try nonBlocking.read(offset: 0, count: 4096) == [])
    }
}
