import Foundation
import Glibc
import Synchronization
import SystemPackage
import Testing
import TSMBackends
import TSMModel
import TestSupport
import TSMGuest
import TSMGuests

/// Collects the kernel backend's log lines.
final class LogLines: Sendable {
    let lines = Mutex<[String]>([])
    var log: KernelLog { { line in self.lines.withLock { $0.append(line) } } }
    var all: [String] { lines.withLock { $0 } }
}

@Suite("Kernel backend and fault injection, without a mount")
struct KernelBackendUnitTests {
    @Test("--inject-fault specs: KIND[:ERRNO][:COUNT]")
    func faultSpecs() {
        #expect(FaultSpec(parsing: "outblob:EBUSY:2") == FaultSpec(kind: .outblob, errno: .resourceBusy, count: 2))
        #expect(FaultSpec(parsing: "generation") == FaultSpec(kind: .generation, errno: .ioError, count: 1))
        #expect(FaultSpec(parsing: "extend:enxio") == FaultSpec(kind: .extend, errno: .noSuchAddressOrDevice, count: 1))
        #expect(FaultSpec(parsing: "outblob:3:ETIMEDOUT") == FaultSpec(kind: .outblob, errno: .timedOut, count: 3))
        #expect(FaultSpec(parsing: "outblob:EIO:+1") == FaultSpec(kind: .outblob, errno: .ioError, count: 1, skip: 1))
        for bad in ["", "foo", "outblob:EWHAT", "outblob:0", "outblob:EIO:1:2:3", "extend:-1", "outblob:+x"] {
            #expect(FaultSpec(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test("a fault injector counts down and logs each fault")
    func injector() throws {
        let logs = LogLines()
        let faults = FaultInjector(measured: nil, log: logs.log)
        try faults.add(FaultSpec(kind: .outblob, errno: .resourceBusy, count: 2))
        #expect(faults.take(.extend, at: "x") == nil)
        #expect(faults.take(.outblob, at: "x")?.errno == .resourceBusy)
        #expect(faults.take(.outblob, at: "x")?.errno == .resourceBusy)
        #expect(faults.take(.outblob, at: "x") == nil)
        #expect(faults.isEmpty && logs.all.count == 3)
        let later = FaultInjector(measured: try RegisterTable(validating: TDXGuest.provider), log: logs.log)
        try later.add(FaultSpec(kind: .extend, skip: 2))
        #expect(later.take(.extend, at: "x") == nil && later.take(.extend, at: "x") == nil)
        #expect(later.take(.extend, at: "x")?.errno == .ioError && later.isEmpty)
    }

    @Test("a sysroot's generation fault bumps the entry's generation after a blob read")
    func generationFault() throws {
        let faults = FaultInjector(measured: nil, log: { _ in })
        try faults.add(FaultSpec(kind: .generation))
        let entry = ReportEntry(
            provider: FaultInjectingReportProvider(wrapping: EchoReports(), faults: faults), lock: ReportLock())
        try entry.storeInblob([UInt8](repeating: 1, count: 64))
        #expect(entry.generation == 1)
        let first = try entry.blob(.outblob)
        #expect(entry.generation == 2)
        #expect(try entry.blob(.outblob).count == first.count)
        #expect(entry.generation == 2)
    }

    @Test("configfs-tsm client: an entry is removed also when the request fails; the file is logged")
    func clientCleansUp() throws {
        let directory = try makeTemporaryDirectory("tsmfs-unit")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logs = LogLines()
        let client = ConfigfsReportClient(directory: directory, log: logs.log)
        #expect(throws: Errno.noSuchFileOrDirectory) { try client.providerName() }
        #expect(throws: Errno.noSuchFileOrDirectory) { try client.report(inblob: [UInt8](repeating: 0, count: 64)) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
        #expect(logs.all.contains { $0.contains(directory) && $0.contains("provider") }, "\(logs.all)")
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try ConfigfsReportClient(directory: directory + "/missing", log: logs.log).providerName()
        }
    }

    @Test("tdx backend: refresh reads the rtmr files, extend writes 48 bytes and reads back; bad sizes are EIO")
    func tdxBackendFiles() throws {
        let directory = try makeTemporaryDirectory("tsmfs-unit")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (index, file) in [
            "mrtd:sha384", "mrconfigid", "mrowner", "mrownerconfig", "rtmr0:sha384", "rtmr1:sha384", "rtmr2:sha384",
            "rtmr3:sha384",
        ].enumerated() {
            #expect(
                FileManager.default.createFile(
                    atPath: directory + "/" + file, contents: Data(repeating: UInt8(index), count: 48)))
        }
        let logs = LogLines()
        let layout = try KernelTDXLayout(try RegisterTable(validating: TDXGuest.provider))
        let backend = KernelTDXBackend(measurements: directory, device: nil, layout: layout, log: logs.log)
        let provider = try MeasurementProvider(TDXGuest.provider, backend: backend)
        let rtmr2 = try #require(provider.table.indexByName["rtmr2"])
        #expect(try provider.read(rtmr2, offset: 0, count: 48) == [UInt8](repeating: 6, count: 48))
        let data = [UInt8](repeating: 0xAB, count: 48)
        #expect(try data.withUnsafeBytes { try provider.write(rtmr2, offset: 0, data: $0) } == 48)
        // A regular file stands in for the kernel's: the written bytes are what is read back.
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/rtmr2:sha384")) == Data(data))
        #expect(try provider.read(rtmr2, offset: 0, count: 48) == data)
        let report0 = try #require(provider.table.indexByName["report0"])
        #expect(try Array(provider.read(report0, offset: 816, count: 48)) == data)

        #expect(FileManager.default.createFile(atPath: directory + "/rtmr0:sha384", contents: Data([1, 2, 3])))
        #expect(try data.withUnsafeBytes { try provider.write(rtmr2, offset: 0, data: $0) } == 48)
        #expect(throws: MRError.backend(.ioError)) { try provider.read(rtmr2, offset: 0, count: 48) }
        #expect(logs.all.contains { $0.contains("rtmr0:sha384") }, "\(logs.all)")
    }

    @Test("tdx detection: an unusable /dev/tdx_guest leaves servtd_hash zero, and report0 reads answer its errno")
    func unusableDevice() throws {
        let root = try makeTemporaryDirectory("tsmfs-unit")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let measurements = root + "/" + KernelTDXBackend.measurementsPath
        try FileManager.default.createDirectory(atPath: measurements, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/dev", withIntermediateDirectories: true)
        for (index, file) in [
            "mrtd:sha384", "mrconfigid", "mrowner", "mrownerconfig", "rtmr0:sha384", "rtmr1:sha384", "rtmr2:sha384",
            "rtmr3:sha384",
        ].enumerated() {
            #expect(
                FileManager.default.createFile(
                    atPath: measurements + "/" + file, contents: Data(repeating: UInt8(index + 1), count: 48)))
        }
        // A regular file: the ioctl answers ENOTTY.
        #expect(FileManager.default.createFile(atPath: root + "/" + KernelTDXBackend.devicePath, contents: Data()))
        let logs = LogLines()
        let found = try Assembly.detect(root: root, guests: Guests.catalogue, log: logs.log)
        let provider = found.provider
        let servtd = try #require(provider.table.indexByName["servtd_hash"])
        let mrtd = try #require(provider.table.indexByName["mrtd"])
        #expect(try provider.read(servtd, offset: 0, count: 48) == [UInt8](repeating: 0, count: 48))
        #expect(try provider.read(mrtd, offset: 0, count: 48) == [UInt8](repeating: 1, count: 48))
        let report0 = try #require(provider.table.indexByName["report0"])
        #expect(throws: MRError.backend(.inappropriateIOCTLForDevice)) {
            try provider.read(report0, offset: 0, count: 1024)
        }
        #expect(logs.all.contains { $0.contains("dev/tdx_guest") }, "\(logs.all)")
    }

    @Test("detection on a plain host names what it looked for")
    func plainHost() throws {
        let directory = try makeTemporaryDirectory("tsmfs-unit")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            _ = try Assembly.detect(root: directory, guests: Guests.catalogue) { _ in }
            Issue.record("detected a guest in an empty directory")
        } catch {
            #expect(error.description.contains(directory + "/sys/devices/virtual/misc/tdx_guest/measurements"))
            #expect(error.description.contains(directory + "/sys/kernel/config/tsm/report"))
        }
    }
}

/// A report provider that answers with the inblob: the generation fault needs no real evidence.
struct EchoReports: ReportProvider {
    let name = "echo"
    let privlevelFloor: UInt32 = 0
    func isVisible(_ attribute: ReportAttribute) -> Bool { true }
    func makeReport(_ request: ReportRequest) throws(Errno) -> ReportBlobs { ReportBlobs(outblob: request.inblob) }
}
