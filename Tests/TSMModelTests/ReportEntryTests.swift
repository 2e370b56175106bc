import Synchronization
import SystemPackage
import Testing
import TSMModel
import TestSupport

/// A provider that echoes its request, counting reports: the report mechanics without evidence.
final class EchoReportProvider: ReportProvider {
    let name = "tdx_guest"
    let privlevelFloor: UInt32
    let reports = Mutex(0)
    let failure = Mutex<Errno?>(nil)

    init(privlevelFloor: UInt32 = 0) {
        self.privlevelFloor = privlevelFloor
    }

    func isVisible(_ attribute: ReportAttribute) -> Bool { true }

    func makeReport(_ request: ReportRequest) throws(Errno) -> ReportBlobs {
        if let error = failure.withLock({ $0 }) { throw error }
        guard request.inblob.count == 64 else { throw .invalidArgument }
        let count = reports.withLock {
            $0 += 1; return $0
        }
        return ReportBlobs(outblob: request.inblob + [UInt8(request.privlevel), UInt8(count)], auxblob: [1, 2, 3])
    }
}

@Suite("configfs-tsm report entry (ABI.md 4.2-4.4)")
struct ReportEntryTests {
    let provider = EchoReportProvider(privlevelFloor: 1)
    let entry: ReportEntry

    init() {
        entry = ReportEntry(provider: provider, lock: ReportLock())
    }

    func text(_ string: String) -> [UInt8] { Array(string.utf8) }

    @Test("outblob before any inblob: EINVAL; a wrong length is the provider's EINVAL")
    func noInblob() throws {
        #expect(throws: Errno.invalidArgument) { try entry.blob(.outblob) }
        try entry.storeInblob([1, 2, 3])
        #expect(throws: Errno.invalidArgument) { try entry.blob(.outblob) }
        try entry.storeInblob([])
        #expect(entry.generation == 2)
        #expect(throws: Errno.invalidArgument) { try entry.blob(.outblob) }
        #expect(throws: Errno.fileTooLarge) { try entry.storeInblob([UInt8](repeating: 0, count: 65)) }
        #expect(entry.generation == 2)
    }

    @Test("one report per write generation, shared by every blob")
    func caching() throws {
        let nonce = [UInt8](repeating: 7, count: 64)
        try entry.storeInblob(nonce)
        let first = try entry.blob(.outblob)
        #expect(first == nonce + [0, 1])
        #expect(try entry.blob(.outblob) == first)
        #expect(try entry.blob(.auxblob) == [1, 2, 3])
        #expect(try entry.blob(.manifestblob) == [])
        #expect(provider.reports.withLock { $0 } == 1)
        try entry.storePrivlevel(text("2\n"))
        #expect(try entry.blob(.outblob) == nonce + [2, 2])
        #expect(provider.reports.withLock { $0 } == 2)
        #expect(entry.generation == 2)
    }

    @Test("a failed report has no cached fallback and is retried")
    func failures() throws {
        try entry.storeInblob([UInt8](repeating: 1, count: 64))
        provider.failure.withLock { $0 = .resourceBusy }
        #expect(throws: Errno.resourceBusy) { try entry.blob(.outblob) }
        provider.failure.withLock { $0 = nil }
        #expect(try entry.blob(.outblob).count == 66)
    }

    @Test(
        "privlevel: base prefixes, newline, the floor and the maximum",
        arguments: [
            ("1", Result<UInt32, Errno>.success(1)), ("3\n", .success(3)), ("0x2", .success(2)), ("03", .success(3)),
            ("+2", .success(2)), ("0", .failure(.invalidArgument)), ("4", .failure(.invalidArgument)),
            ("x", .failure(.invalidArgument)), ("", .failure(.invalidArgument)), ("2 ", .failure(.invalidArgument)),
            ("-1", .failure(.invalidArgument)), ("08", .failure(.invalidArgument)),
            ("4294967296", .failure(.outOfRange)),
        ])
    func privlevel(input: String, expected: Result<UInt32, Errno>) {
        let before = entry.generation
        let result = Result { () throws(Errno) in try entry.storePrivlevel(text(input)) }
        switch expected {
        case .success: #expect(result.error == nil, "\(input)"); #expect(entry.generation == before + 1)
        case .failure(let errno): #expect(result.error == errno, "\(input)"); #expect(entry.generation == before)
        }
    }

    @Test("service_guid: a bad UUID still advances the generation and answers EINVAL")
    func serviceGuid() throws {
        try entry.storeServiceGuid(text("63da758d-e664-4564-adc5-f4b93be8accd\n"))
        #expect(entry.generation == 1)
        #expect(throws: Errno.invalidArgument) { try entry.storeServiceGuid(text("not-a-uuid")) }
        #expect(entry.generation == 2)
        try entry.storeServiceProvider(text("svsm\n"))
        try entry.storeServiceManifestVersion(text("7"))
        #expect(throws: Errno.invalidArgument) { try entry.storeServiceManifestVersion(text("seven")) }
        #expect(entry.generation == 4)
    }

    @Test("kernel number and UUID parsers")
    func parsers() {
        #expect(
            KernelNumber.parseUUID(Array("63da758d-e664-4564-adc5-f4b93be8accd".utf8)) == [
                0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd,
            ])
        #expect(KernelNumber.parseUUID(Array("63da758d_e664-4564-adc5-f4b93be8accd".utf8)) == nil)
        #expect(KernelNumber.parseUUID(Array("63da758d-e664".utf8)) == nil)
        #expect((try? KernelNumber.parseUInt32(Array("0xffffffff".utf8))) == UInt32.max)
    }
}
