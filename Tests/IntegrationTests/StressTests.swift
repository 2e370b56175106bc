import Crypto
import Foundation
import Glibc
import Testing
import TestSupport

/// Several client processes mixing reads, extends and overwrites across every provider at once
/// (ABI.md 2.6: one lock per provider; a live register is refreshed from the registers it
/// summarises, so whatever one read returns is consistent in itself).
@Suite("Concurrency stress", .needsMount)
struct StressTests {
    static let workers = 4
    static let seconds = 3.0
    static let maxOpsPerWorker = 20_000

    /// Every register's value now, as `path hex` lines for the workers.
    static func snapshot(_ mount: MountedTSMFS) throws -> [String: [UInt8]] {
        var values: [String: [UInt8]] = [:]
        for file in RFCv2Conformance.builtinFiles {
            let value = try #require(Sys.readFile(mount.path(file.path)).value, "\(file.path)")
            values[file.path] = value
        }
        return values
    }

    static func writeInitial(_ values: [String: [UInt8]], to path: String) throws {
        let text = values.keys.sorted().map { "\($0) \(hex(values[$0] ?? []))" }.joined(separator: "\n") + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test(
        "4 processes x 3 s of reads, extends and overwrites: full-size reads, consistent live registers, no lost extend"
    )
    func mixedWorkload() throws {
        let mount = try MountedTSMFS()
        let initial = try Self.snapshot(mount)
        let initialPath = mount.directory + "/initial"
        try Self.writeInitial(initial, to: initialPath)

        let clock = ContinuousClock()
        let started = clock.now
        let workers = try (0..<Self.workers).map { index in
            try Worker(
                [
                    "mix", mount.root, initialPath, String(Self.seconds), String(Self.maxOpsPerWorker),
                    String(Self.workers * Self.maxOpsPerWorker), String(1000 + index), String(Self.workers - 1),
                ],
                directory: mount.directory, label: "mix\(index)")
        }
        for worker in workers {
            #expect(worker.wait(deadline: .seconds(60)) == 0, "\(worker.output)")
            #expect(!worker.timedOut, "a worker hung: \(worker.output)")
        }
        let elapsed = clock.now - started

        // What the workers saw: every read full-size and consistent, no failed system call.
        var ops = 0, reads = 0, reports = 0
        var extends: [String: (count: Int, data: [UInt8])] = [:]
        var overwrites: [String: (count: Int, values: Set<[UInt8]>)] = [:]
        for worker in workers {
            #expect(worker.number("violations") == 0, "\(worker.output)")
            #expect(worker.number("errors") == 0, "\(worker.output)")
            ops += worker.number("ops") ?? 0
            reads += worker.number("reads") ?? 0
            reports += worker.number("reports") ?? 0
            for line in worker.lines where line.key == "extends" && line.fields.count == 3 {
                let path = line.fields[0]
                let count = Int(line.fields[1]) ?? 0
                let data = bytes(line.fields[2])
                if let previous = extends[path] { #expect(previous.data == data, "\(path): one datum per register") }
                extends[path] = ((extends[path]?.count ?? 0) + count, data)
            }
            for line in worker.lines where line.key == "overwrites" && line.fields.count >= 2 {
                let path = line.fields[0]
                let values = Set(line.fields.dropFirst(2).map(bytes))
                overwrites[path] = (
                    (overwrites[path]?.count ?? 0) + (Int(line.fields[1]) ?? 0),
                    (overwrites[path]?.values ?? []).union(values)
                )
            }
        }
        print(
            "stress: \(Self.workers) workers, \(ops) ops (\(reads) register reads, \(reports) report checks, "
                + """
                \(extends.values.map(\.count).reduce(0, +)) extends, \
                \(overwrites.values.map(\.count).reduce(0, +)) overwrites) in \(elapsed)
                """
        )
        #expect(reads > 100 && reports > 100, "the workers read")
        #expect(extends.count == 9, "every extendable register was exercised: \(extends.keys.sorted())")
        #expect(overwrites.count == 2)

        // No extend lost: each final value is the chain of exactly the successful extends.
        for (path, (count, data)) in extends.sorted(by: { $0.key < $1.key }) {
            #expect(count > 0, "\(path)")
            let hash = RFCv2Conformance.builtinFiles.first { $0.path == path }.flatMap(\.hash) ?? ""
            var expected = try #require(initial[path])
            for _ in 0..<count { expected = extendDigest(hash, expected, data) }
            #expect(Sys.readFile(mount.path(path)).value == expected, "\(path) after \(count) extends")
        }
        for (path, (count, values)) in overwrites {
            #expect(count > 0, "\(path)")
            let final = try #require(Sys.readFile(mount.path(path)).value)
            #expect(values.contains(final), "\(path) holds one of the values written")
        }

        // And once everything is quiet, the live registers agree with the registers they summarise.
        let example = mount.path("measurement-example")
        let head = ["static_mr", "config_mr", "rtmr0", "rtmr1", "user_data"].flatMap {
            Sys.readFile(example + "/\($0)/digest").value ?? []
        }
        #expect(Sys.readFile(example + "/full_report").value == head + Array(SHA512.hash(data: head)))
        let report = try #require(Sys.readFile(mount.path("tdx/report0")).value)
        #expect(Array(report[128..<192]) == Sys.readFile(mount.path("tdx/reportdata")).value)
        for (index, name) in ["rtmr0", "rtmr1", "rtmr2", "rtmr3"].enumerated() {
            #expect(
                Array(report[(720 + 48 * index)..<(768 + 48 * index)])
                    == Sys.readFile(mount.path("tdx/\(name)/digest")).value)
        }
        #expect(mount.stop() == 0, "\(mount.log)")
    }

    /// The checks above are only worth something if a worker notices a wrong value.
    @Test("the worker's checks can fail: a register outside its extend chain is reported")
    func checkerCatchesWrongValues() throws {
        let mount = try MountedTSMFS()
        var initial = try Self.snapshot(mount)
        initial["tdx/rtmr2/digest"] = [UInt8](repeating: 0xEE, count: 48)  // not what the register holds
        let initialPath = mount.directory + "/initial"
        try Self.writeInitial(initial, to: initialPath)
        let worker = try Worker(
            ["mix", mount.root, initialPath, "10", "400", "50", "7"], directory: mount.directory, label: "control")
        #expect(worker.wait(deadline: .seconds(60)) == 0)
        #expect((worker.number("violations") ?? 0) > 0, "\(worker.output)")
        #expect(worker.output.contains("tdx/rtmr2/digest"), "\(worker.output)")
        #expect(mount.stop() == 0)
    }
}
