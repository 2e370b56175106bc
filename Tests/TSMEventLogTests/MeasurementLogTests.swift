import Dispatch
import Foundation
import Synchronization
import Testing
import TSMModel
@testable import TSMEventLog

/// The invariant replay(boot + runtime) == RTMRs, through a real MeasurementProvider whose backend
/// logs: at mount, after extends, under concurrent writers, and when extends fail.
@Suite struct MeasurementLogTests {
    static let descriptor = ProviderDescriptor(
        name: "tdx",
        registers: (0..<4).map {
            RegisterDescriptor(name: "rtmr\($0)", hash: .sha384, flags: RegisterFlags.rtmr.union(.writable))
        }
            + [RegisterDescriptor(name: "other", hash: .sha384, flags: RegisterFlags.rtmr.union(.writable))])

    /// The software model's extend, without TSMBackends.
    struct HashBackend: MeasurementBackend {
        func refresh(_ registers: inout RegisterValues) throws(MRError) {}
        func extend(_ index: Int, with data: [UInt8], in registers: inout RegisterValues) throws(MRError) {
            registers.values[index] = sha384(registers.values[index], data)
        }
    }

    struct FailingBackend: MeasurementBackend {
        func refresh(_ registers: inout RegisterValues) throws(MRError) {}
        func extend(_ index: Int, with data: [UInt8], in registers: inout RegisterValues) throws(MRError) {
            throw .backend(.ioError)
        }
    }

    static func provider(_ log: MeasurementLog, inner: any MeasurementBackend = HashBackend()) throws
        -> MeasurementProvider
    {
        try MeasurementProvider(
            log.applyingInitialRTMRs(to: descriptor, rtmrs: [0, 1, 2, 3]),
            backend: EventLoggingBackend(wrapping: inner, log: log, rtmrs: [0, 1, 2, 3]))
    }

    static func rtmrs(_ provider: MeasurementProvider) -> [[UInt8]] {
        Array(provider.snapshot().values.prefix(4))
    }

    @discardableResult
    static func write(_ provider: MeasurementProvider, _ index: Int, _ data: [UInt8]) throws(MRError) -> Int {
        let result: Result<Int, MRError> = data.withUnsafeBytes { buffer in
            Result { () throws(MRError) -> Int in try provider.write(index, offset: 0, data: buffer) }
        }
        return try result.get()
    }

    @Test func atMountTheRegistersAreTheBootReplay() throws {
        let log = try MeasurementLog()
        let provider = try Self.provider(log)
        #expect(log.initialRTMRs == log.boot.replay())
        #expect(Self.rtmrs(provider) == log.replay())
        #expect(log.runtimeLogSize == 0)
        #expect(log.ccelDataBytes == (try log.table.logArea(log.boot.encoded())))
        #expect(try CCELTable(decoding: log.ccelTableBytes) == log.table)
        #expect(provider.snapshot()["other"] == [UInt8](repeating: 0, count: 48))
    }

    @Test func everyExtendIsRecordedInOrder() throws {
        let log = try MeasurementLog()
        let provider = try Self.provider(log)
        for step in 0..<12 {
            try Self.write(provider, step % 4, sha384([UInt8(step)]))
            #expect(Self.rtmrs(provider) == log.replay(), "after step \(step)")
        }
        try Self.write(provider, 4, sha384([99]))
        let records = log.runtime.records()
        #expect(records.count == 12, "the non-RTMR register is not logged")
        #expect(records.map(\.rtmr) == (0..<12).map { $0 % 4 })
        #expect(records.map(\.data) == (0..<12).map { sha384([UInt8($0)]) })
        #expect(try TCGEventLog(decoding: log.fullLogBytes()).events == log.events())
        let bytes = log.runtimeLogBytes()
        #expect(bytes.count == 12 * 74)
        #expect(log.runtimeLogBytes(offset: 70, count: 10) == Array(bytes[70..<80]))
        #expect(log.runtimeLogBytes(offset: bytes.count - 3, count: 10) == Array(bytes.suffix(3)))
        #expect(log.runtimeLogBytes(offset: bytes.count, count: 10).isEmpty)
        #expect(log.runtimeLogBytes(offset: -1, count: 10).isEmpty)
    }

    @Test func failedExtendsRecordNothing() throws {
        let log = try MeasurementLog()
        let provider = try Self.provider(log)
        #expect(throws: MRError.invalidWrite) { try Self.write(provider, 0, [1, 2, 3]) }
        #expect(throws: MRError.writePastEnd) {
            try [UInt8](repeating: 1, count: 48).withUnsafeBytes { buffer in
                _ = try provider.write(0, offset: 48, data: buffer)
            }
        }
        let failing = try Self.provider(log, inner: FailingBackend())
        #expect(throws: MRError.backend(.ioError)) { try Self.write(failing, 1, sha384([1])) }
        #expect(log.runtime.count == 0)
        #expect(Self.rtmrs(provider) == log.replay())
        #expect(Self.rtmrs(failing) == log.initialRTMRs)
    }

    @Test func aFullLogRefusesTheExtend() throws {
        let log = try MeasurementLog(runtimeCapacity: 2 * 74 + 10)
        let provider = try Self.provider(log)
        try Self.write(provider, 0, sha384([1]))
        try Self.write(provider, 0, sha384([2]))
        let before = Self.rtmrs(provider)
        #expect(throws: MRError.backend(.noSpace)) { try Self.write(provider, 0, sha384([3])) }
        #expect(Self.rtmrs(provider) == before, "the register keeps its value")
        #expect(log.runtime.count == 2)
        #expect(Self.rtmrs(provider) == log.replay())
        #expect(throws: EventLogError.runtimeLogFull(capacity: 158)) {
            try log.recordExtend(rtmr: 1, data: sha384([4]))
        }
    }

    @Test func facesThatCarryEventDataRecordIt() throws {
        let log = try MeasurementLog()
        let provider = try Self.provider(log)
        try MeasurementLog.withEvent(Array("app v1".utf8)) { () throws(MRError) in
            try Self.write(provider, 3, sha384([1]))
        }
        try Self.write(provider, 3, sha384([2]))
        #expect(log.runtime.records().map(\.event) == [Array("app v1".utf8), []])
        #expect(log.runtime.events().allSatisfy { $0.type == .eventTag && $0.rtmr == 3 })
    }

    @Test func concurrentWritersKeepTheInvariantAtAllTimes() throws {
        let log = try MeasurementLog()
        let provider = try Self.provider(log)
        let writers = 6, perWriter = 150
        let done = Atomic<Int>(0)
        let checks = Atomic<Int>(0)
        let mismatches = Mutex<[String]>([])
        // Plain threads, as libfuse's workers are: all of them run at once, whatever the cores.
        Self.onThreads(writers + 1) { worker in
            if worker == writers {
                // The reader: a snapshot taken between two reads of the log is the replay of some
                // prefix of the later one, no shorter than the earlier one, register by register.
                // At least one check, however the threads are scheduled on a loaded machine.
                repeat {
                    let before = log.runtime.count
                    let registers = Self.rtmrs(provider)
                    let events = log.events()
                    let bootCount = log.boot.events.count
                    let prefixes = (bootCount + before...events.count).map { TCGEventLog.replay(events.prefix($0)) }
                    for rtmr in 0..<4 where !prefixes.contains(where: { $0[rtmr] == registers[rtmr] }) {
                        mismatches.withLock { $0.append("rtmr\(rtmr) with \(events.count - bootCount) records") }
                    }
                    checks.add(1, ordering: .relaxed)
                } while done.load(ordering: .acquiring) < writers
                return
            }
            for step in 0..<perWriter {
                let data = sha384([UInt8(worker), UInt8(step)])
                do {
                    if step.isMultiple(of: 5) {
                        try MeasurementLog.withEvent(Array("w\(worker) s\(step)".utf8)) { () throws(MRError) in
                            try Self.write(provider, (worker + step) % 4, data)
                        }
                    } else {
                        try Self.write(provider, (worker + step) % 4, data)
                    }
                } catch {
                    mismatches.withLock { $0.append("write failed: \(error)") }
                }
            }
            done.add(1, ordering: .releasing)
        }
        #expect(checks.load(ordering: .relaxed) > 0)
        #expect(mismatches.withLock { $0 } == [])
        #expect(log.runtime.count == writers * perWriter)
        #expect(Self.rtmrs(provider) == log.replay())
        let tagged = log.runtime.records().filter { !$0.event.isEmpty }
        #expect(tagged.count == writers * perWriter / 5)
        #expect(
            tagged.allSatisfy { record in
                String(decoding: record.event, as: UTF8.self).hasPrefix("w")
            })
    }

    /// Runs `body(0..<count)` on `count` threads at once and waits for all of them.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let finished = DispatchSemaphore(value: 0)
        for index in 0..<count {
            Thread.detachNewThread {
                body(index)
                finished.signal()
            }
        }
        for _ in 0..<count { finished.wait() }
    }

    @Test func bootLogsThatExtendNoRTMRAreRefused() throws {
        let mrtd = try TCGEvent(mrIndex: 0, type: .ipl, digest: sha384([1]), data: [1])
        #expect(throws: EventLogError.self) { try MeasurementLog(boot: TCGEventLog(events: [mrtd])) }
        #expect(throws: EventLogError.self) {
            try MeasurementLog(boot: BootLog.synthetic(), table: CCELTable(logAreaMinimumLength: 64))
        }
        let noAction = try TCGEvent.noAction(data: [1])
        #expect(try MeasurementLog(boot: TCGEventLog(events: [noAction])).initialRTMRs == TCGEventLog.replay([]))
    }
}

/// What a client reads back from the served files decodes to the same logs and replay.
@Suite struct EventLogFilesTests {
    @Test func readBackWhatIsServed() throws {
        let log = try MeasurementLog()
        try log.recordExtend(rtmr: 3, data: sha384([1]), event: Array("x".utf8))
        try log.recordExtend(rtmr: 0, data: sha384([2]))
        let files = try EventLogFiles(
            table: log.ccelTableBytes, area: log.ccelDataBytes, runtime: log.runtimeLogBytes())
        #expect(files.boot == log.boot)
        #expect(files.runtime == log.runtime.events())
        #expect(files.replay() == log.replay())
        #expect(files.bootReplay() == log.initialRTMRs)
        let text = files.text(replay: true)
        #expect(text.hasSuffix(EventLogText.replayLines(log.replay()).joined(separator: "\n") + "\n"))
        #expect(!files.text(replay: false).contains("rtmr3: "))
    }

    @Test func refusesInconsistentFiles() throws {
        let log = try MeasurementLog()
        try log.recordExtend(rtmr: 1, data: sha384([1]))
        let table = log.ccelTableBytes, area = log.ccelDataBytes, runtime = log.runtimeLogBytes()
        #expect(throws: EventLogError.self) {
            try EventLogFiles(table: table, area: Array(area.dropLast()), runtime: runtime)
        }
        #expect(throws: EventLogError.self) {
            try EventLogFiles(table: Array(table.dropLast()), area: area, runtime: runtime)
        }
        #expect(throws: EventLogError.self) {
            try EventLogFiles(table: table, area: area, runtime: Array(runtime.dropLast()))
        }
        let foreign = try TCGEvent.measurement(rtmr: 0, type: .ipl, data: [1]).encoded()
        #expect(throws: EventLogError.self) { try EventLogFiles(table: table, area: area, runtime: runtime + foreign) }
        #expect(try EventLogFiles(table: table, area: area, runtime: []).runtime == [])
    }
}
