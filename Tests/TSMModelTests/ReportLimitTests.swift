import SystemPackage
import Testing
import TSMModel

/// A provider whose blobs are of given sizes: the configfs size limit without evidence.
struct SizedReportProvider: ReportProvider {
    let name = "sev_guest"
    let privlevelFloor: UInt32 = 0
    let sizes: (outblob: Int, auxblob: Int, manifestblob: Int)

    func isVisible(_ attribute: ReportAttribute) -> Bool { true }

    func makeReport(_ request: ReportRequest) throws(Errno) -> ReportBlobs {
        ReportBlobs(
            outblob: [UInt8](repeating: 1, count: sizes.outblob), auxblob: [UInt8](repeating: 2, count: sizes.auxblob),
            manifestblob: [UInt8](repeating: 3, count: sizes.manifestblob))
    }
}

/// `TSM_REPORT_OUTBLOB_MAX` per release: 32 KiB until 6.19, 16 MiB from 7.0 (9342bf3d670b); the
/// one limit covers outblob, auxblob and manifestblob, and a larger blob reads as EFBIG.
@Suite("configfs-tsm blob limit of each release")
struct ReportLimitTests {
    @Test("at the limit a blob reads; one byte past it EFBIG", arguments: [32 << 10, 16 << 20])
    func limit(_ max: Int) throws {
        let fits = ReportEntry(
            provider: SizedReportProvider(sizes: (max, max, max)), lock: ReportLock(), outblobMax: max)
        try fits.storeInblob([UInt8](repeating: 0, count: 64))
        for blob in [ReportBlob.outblob, .auxblob, .manifestblob] { #expect(try fits.blob(blob).count == max) }
        for (index, blob) in [ReportBlob.outblob, .auxblob, .manifestblob].enumerated() {
            var sizes = (1, 1, 1)
            if index == 0 { sizes.0 = max + 1 } else if index == 1 { sizes.1 = max + 1 } else { sizes.2 = max + 1 }
            let over = ReportEntry(provider: SizedReportProvider(sizes: sizes), lock: ReportLock(), outblobMax: max)
            try over.storeInblob([UInt8](repeating: 0, count: 64))
            #expect(throws: Errno.fileTooLarge) { try over.blob(blob) }
        }
    }

    @Test("a 40 KiB certificate chain: EFBIG before 7.0, served from 7.0")
    func fortyKiB() throws {
        for (max, fits) in [(32 << 10, false), (16 << 20, true)] {
            let entry = ReportEntry(
                provider: SizedReportProvider(sizes: (1184, 40 << 10, 0)), lock: ReportLock(), outblobMax: max)
            try entry.storeInblob([UInt8](repeating: 0, count: 64))
            #expect(try entry.blob(.outblob).count == 1184)
            #expect(((try? entry.blob(.auxblob)) != nil) == fits, "\(max)")
        }
    }
}
