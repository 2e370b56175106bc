import Foundation
import TSMBytes
@testable import TSMEventLog
import TSMModel
import Testing

/// Intel's cctrusted (cctrusted-base and cctrusted-vm 0.5.0, the TDX guest SDK) reads the CCEL
/// table and log area tsmfs serves through its own TdxVM and EventLogs classes, and its replay
/// matches ours: at mount, and for boot + runtime after extends.
@Suite(
    .enabled(
        if: CCTrusted.available,
        "needs python3 with cctrusted 0.5.0: pip install cctrusted-vm==0.5.0 cctrusted-base==0.5.0"))
struct CCTrustedTests {
    @Test func syntheticBootReplaysAsOurs() throws {
        let log = try MeasurementLog()
        let output = try CCTrusted.check(log)
        #expect(output.registers("boot") == log.initialRTMRs.map { Hex.encode($0) })
        #expect(output.registers("boot") == Pinned.syntheticRTMRs)
        #expect(output.value("boot events") == String(log.boot.events.count + 1))
        #expect(output.value("ccel revision") == "1 cc_type 2 laml 65536")
    }

    @Test func bootPlusRuntimeReplaysToTheRegisters() throws {
        let log = try MeasurementLog()
        for step in 0..<10 {
            try log.recordExtend(
                rtmr: step % 4, data: sha384([UInt8(step)]),
                event: step.isMultiple(of: 3) ? nil : Array("step \(step)".utf8))
        }
        let output = try CCTrusted.check(log)
        #expect(output.registers("boot") == log.initialRTMRs.map { Hex.encode($0) })
        #expect(output.registers("full") == log.replay().map { Hex.encode($0) })
        #expect(output.registers("full") != output.registers("boot"))
        #expect(output.value("full events") == String(log.boot.events.count + 1 + 10))
    }

    @Test func everyRecordShapeParses() throws {
        // Empty event data is left out: cctrusted 0.5.0 cannot read eventSize 0 (its get_bytes
        // returns None for a count of 0), and tsmfs never writes it in the logs it serves.
        let sample = try Samples.log()
        let boot = TCGEventLog(events: sample.events.filter { !$0.data.isEmpty })
        let log = try MeasurementLog(boot: boot)
        let output = try CCTrusted.check(log)
        #expect(output.registers("boot") == boot.replay().map { Hex.encode($0) })
    }

    @Test func anEmptyBootLogLeavesTheRTMRsAtZero() throws {
        // What a mount that wants zero-initialised RTMRs serves: the Spec ID header alone.
        let log = try MeasurementLog(boot: TCGEventLog(events: []))
        #expect(log.initialRTMRs == TCGEventLog.replay([]))
        try log.recordExtend(rtmr: 2, data: [UInt8](repeating: 0, count: 48))
        let output = try CCTrusted.check(log)
        #expect(output.registers("boot") == log.initialRTMRs.map { Hex.encode($0) })
        #expect(
            output.registers("full")[2]
                == "f57bb7ed82c6ae4a29e6c9879338c592c7d42a39135583e8ccbe3940f2344b0eb6eb8503db0ffd6a39ddd00cd07d8317")
    }

    @Test func aCorruptedDigestChangesTheirReplay() throws {
        let log = try MeasurementLog()
        var data = log.ccelDataBytes
        // The first record after the 65-byte header: its digest starts at 65 + 14.
        data[65 + 14] ^= 0x01
        let output = try CCTrusted.run(files: log.ccelTableBytes, data, log.fullLogBytes())
        #expect(output.registers("boot")[0] != log.initialRTMRs.map { Hex.encode($0) }[0])
        #expect(Array(output.registers("boot")[1...]) == Array(log.initialRTMRs.map { Hex.encode($0) }[1...]))
    }

    @Test func largeBootLogGrowsTheArea() throws {
        let events = try (0..<1200).map { index throws(EventLogError) in
            try TCGEvent.measurement(rtmr: index % 3, type: .ipl, data: Array("file \(index)".utf8))
        }
        let log = try MeasurementLog(boot: TCGEventLog(events: events))
        #expect(log.table.logAreaMinimumLength > 0x10000)
        #expect(log.table.logAreaMinimumLength % 0x1000 == 0)
        let output = try CCTrusted.check(log)
        #expect(output.registers("boot") == log.initialRTMRs.map { Hex.encode($0) })
    }
}

enum CCTrusted {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("check_with_cctrusted.py").path

    static var available: Bool {
        (try? run(["-c", "import cctrusted_base.eventlog, cctrusted_base.ccel, cctrusted_vm.cvm"]).status) == 0
    }

    struct Output {
        let lines: [String]

        /// The rest of the line that starts with `prefix` and a space.
        func value(_ prefix: String) -> String? {
            lines.first { $0.hasPrefix(prefix + " ") }.map { String($0.dropFirst(prefix.count + 1)) }
        }

        func registers(_ log: String) -> [String] {
            (0..<4).compactMap { value("\(log) rtmr\($0)") }
        }
    }

    /// Writes the table, the log area and the full log to a temporary directory and runs the script.
    static func check(_ log: MeasurementLog) throws -> Output {
        try run(files: log.ccelTableBytes, log.ccelDataBytes, log.fullLogBytes())
    }

    static func run(files table: [UInt8], _ area: [UInt8], _ fullLog: [UInt8]) throws -> Output {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tsmfs-eventlog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tablePath = directory.appendingPathComponent("CCEL")
        let dataPath = directory.appendingPathComponent("data-CCEL")
        let fullPath = directory.appendingPathComponent("full.bin")
        try Data(table).write(to: tablePath)
        try Data(area).write(to: dataPath)
        try Data(fullLog).write(to: fullPath)
        let result = try run([script, tablePath.path, dataPath.path, fullPath.path])
        #expect(result.status == 0, "cctrusted refused the files: \(result.error)")
        return Output(lines: result.output.split(separator: "\n").map(String.init))
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // Read before waiting: a full pipe would otherwise block the child.
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
