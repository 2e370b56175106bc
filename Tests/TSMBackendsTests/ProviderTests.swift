import Synchronization
import Testing
import TSMBackends
import TSMModel
import TestSupport
import TSMGuest
import TSMGuests

/// Reads a whole register, as `cat` would.
func value(_ provider: MeasurementProvider, _ name: String) throws -> [UInt8] {
    let index = try #require(provider.table.indexByName[name])
    return try provider.read(index, offset: 0, count: 4096)
}

@discardableResult
func write(_ provider: MeasurementProvider, _ name: String, _ data: [UInt8], offset: Int64 = 0) throws -> Int {
    let index = try #require(provider.table.indexByName[name])
    return try data.withUnsafeBytes { try provider.write(index, offset: offset, data: $0) }
}

func makeProvider(_ descriptor: ProviderDescriptor) throws -> MeasurementProvider {
    try MeasurementProvider(descriptor, backend: SoftwareBackend())
}

@Suite("RFC v2 sample provider (ABI.md 2.7)")
struct MeasurementExampleTests {
    let provider: MeasurementProvider

    init() throws {
        provider = try makeProvider(BuiltinProviders.measurementExample)
    }

    @Test("first read of report_digest gives the ABI.md vector")
    func reportDigestVector() throws {
        #expect(
            hex(try value(provider, "report_digest"))
                == """
                52355faed607475a6f87a4ee72d776f1db811162c1348618e336d4c73d18fff88c7c01cc9be1093b60bdbf1195c7dd8404dc49\
                7a2179b3c372d0edcc1d159ede
                """
        )
    }

    @Test("rtmr1 after writing 48 zero bytes gives the ABI.md vector")
    func rtmr1Vector() throws {
        #expect(try write(provider, "rtmr1", [UInt8](repeating: 0, count: 48)) == 48)
        #expect(
            hex(try value(provider, "rtmr1"))
                == "5981610c834136299064ad2ed2d42ceb3f9a8bfb902d9e82842bb3e9c9e049b05635ad21b5f6fec9c1acb962ec4cbce2")
    }

    @Test("initial contents are each field's name, NUL-padded")
    func initialContents() throws {
        #expect(try value(provider, "static_mr") == ascii("static_mr", paddedTo: 48))
        #expect(try value(provider, "config_mr") == ascii("config_mr", paddedTo: 64))
        #expect(try value(provider, "rtmr0") == ascii("rtmr0", paddedTo: 32))
        #expect(try value(provider, "rtmr1") == ascii("rtmr1", paddedTo: 48))
        #expect(try value(provider, "user_data") == ascii("user_data", paddedTo: 64))
    }

    @Test("full_report is the 320-byte struct, following writes to rtmr1 and user_data")
    func fullReport() throws {
        func expectedReport() throws -> [UInt8] {
            let parts = ["static_mr", "config_mr", "rtmr0", "rtmr1", "user_data"]
            let head = try parts.flatMap { try value(provider, $0) }
            return head + HashAlgorithm.sha512.digest(head)
        }
        let first = try value(provider, "full_report")
        #expect(first.count == 320)
        #expect(first == (try expectedReport()))
        try write(provider, "user_data", [UInt8](repeating: 0xAB, count: 64))
        let second = try value(provider, "full_report")
        #expect(Array(second[192..<256]) == [UInt8](repeating: 0xAB, count: 64))
        try write(provider, "rtmr1", [UInt8](repeating: 1, count: 48))
        let third = try value(provider, "full_report")
        #expect(third == (try expectedReport()))
        #expect(Set([first, second, third]).count == 3)
        #expect(Array(third[256..<320]) == (try value(provider, "report_digest")))
    }

    @Test("user_data (W without X) is overwritten, not extended")
    func overwrite() throws {
        let data = (0..<64).map { UInt8($0) }
        try write(provider, "user_data", data)
        #expect(try value(provider, "user_data") == data)
    }

    @Test("rtmr0 (X without W) and the read-only registers refuse writes")
    func readOnly() throws {
        for name in ["rtmr0", "static_mr", "config_mr", "report_digest", "full_report"] {
            let size = provider.table.registers[provider.table.indexByName[name] ?? 0].size
            #expect(throws: MRError.accessDenied) { try write(provider, name, [UInt8](repeating: 0, count: size)) }
        }
    }

    @Test(
        "bad writes leave the register as it was",
        arguments: [
            (Int64(0), 47), (Int64(0), 1), (Int64(1), 47), (Int64(48), 48), (Int64(1 << 40), 48),
        ])
    func badWrites(offset: Int64, count: Int) throws {
        let before = try value(provider, "rtmr1")
        #expect(throws: MRError.self) {
            try write(provider, "rtmr1", [UInt8](repeating: 7, count: count), offset: offset)
        }
        #expect(try value(provider, "rtmr1") == before)
    }

    @Test("a longer write is accepted as the register size and uses the first bytes")
    func longWrite() throws {
        let data = [UInt8](repeating: 0, count: 48) + [UInt8](repeating: 9, count: 100)
        #expect(try write(provider, "rtmr1", data) == 48)
        #expect(
            hex(try value(provider, "rtmr1"))
                == "5981610c834136299064ad2ed2d42ceb3f9a8bfb902d9e82842bb3e9c9e049b05635ad21b5f6fec9c1acb962ec4cbce2")
    }

    @Test("pread at any offset inside the value")
    func partialReads() throws {
        let index = try #require(provider.table.indexByName["static_mr"])
        #expect(try provider.read(index, offset: 0, count: 6) == Array("static".utf8))
        #expect(try provider.read(index, offset: 7, count: 2) == Array("mr".utf8))
        #expect(try provider.read(index, offset: 47, count: 10) == [0])
        #expect(try provider.read(index, offset: 48, count: 10) == [])
    }
}

@Suite("Refresh timing (ABI.md 2.6)")
struct RefreshTimingTests {
    @Test("a live register is refreshed once after a write, and not again until the next write")
    func onceAfterWrite() throws {
        let provider = try makeProvider(BuiltinProviders.measurementExample)
        #expect(!provider.inSync)  // RFC v2: no refresh at registration
        #expect(provider.refreshCount == 0)
        _ = try value(provider, "static_mr")  // not live: no refresh
        #expect(provider.refreshCount == 0)
        _ = try value(provider, "report_digest")
        #expect(provider.refreshCount == 1)
        _ = try value(provider, "report_digest")
        _ = try value(provider, "full_report")  // one refresh serves every live register
        #expect(provider.refreshCount == 1)
        try write(provider, "user_data", [UInt8](repeating: 1, count: 64))
        #expect(!provider.inSync)
        #expect(provider.refreshCount == 1)  // refresh is lazy: on the next live read
        _ = try value(provider, "full_report")
        _ = try value(provider, "report_digest")
        #expect(provider.refreshCount == 2)
    }

    @Test("a failed write does not make the provider stale")
    func failedWriteKeepsSync() throws {
        let provider = try makeProvider(BuiltinProviders.measurementExample)
        _ = try value(provider, "report_digest")
        #expect(throws: MRError.invalidWrite) { try write(provider, "rtmr1", [1, 2, 3]) }
        #expect(provider.inSync)
        _ = try value(provider, "report_digest")
        #expect(provider.refreshCount == 1)
    }

    /// A backend whose refresh and extend fail on demand, as a hardware backend can.
    final class FlakyBackend: MeasurementBackend {
        let failRefresh = Mutex(false)
        let failExtend = Mutex(false)
        func refresh(_ registers: inout RegisterValues) throws(MRError) {
            if failRefresh.withLock({ $0 }) { throw .backend(.ioError) }
            try SoftwareBackend().refresh(&registers)
        }
        func extend(_ index: Int, with data: [UInt8], in registers: inout RegisterValues) throws(MRError) {
            if failExtend.withLock({ $0 }) { throw .backend(.resourceBusy) }
            try SoftwareBackend().extend(index, with: data, in: &registers)
        }
    }

    @Test("backend errors reach the reader and writer; nothing changes")
    func backendErrors() throws {
        let backend = FlakyBackend()
        let provider = try MeasurementProvider(BuiltinProviders.measurementExample, backend: backend)
        backend.failRefresh.withLock { $0 = true }
        #expect(throws: MRError.backend(.ioError)) { try value(provider, "report_digest") }
        #expect(!provider.inSync)
        #expect(try value(provider, "static_mr").count == 48)  // non-live reads never refresh
        backend.failRefresh.withLock { $0 = false }
        let digest = try value(provider, "report_digest")
        #expect(provider.inSync)
        backend.failExtend.withLock { $0 = true }
        let before = try value(provider, "rtmr1")
        #expect(throws: MRError.backend(.resourceBusy)) {
            try write(provider, "rtmr1", [UInt8](repeating: 0, count: 48))
        }
        #expect(try value(provider, "rtmr1") == before)
        #expect(provider.inSync)
        #expect(try value(provider, "report_digest") == digest)
    }
}

@Suite("Built-in tdx and cca providers")
struct TDXProviderTests {
    @Test("report0 reflects reportdata and the registers at the TDREPORT offsets")
    func report0() throws {
        let provider = try makeProvider(TDXGuest.provider)
        let reportData = (0..<64).map { UInt8($0 * 3 & 0xFF) }
        try write(provider, "reportdata", reportData)
        try write(provider, "rtmr2", [UInt8](repeating: 0, count: 48))
        let report = try value(provider, "report0")
        #expect(report.count == 1024)
        #expect(Array(report[0..<4]) == [0x81, 0, 0, 0])
        #expect(Array(report[128..<192]) == reportData)
        // ABI.md 3.6's offsets, written out here rather than taken from the code under test.
        let offsets = [
            ("mrtd", 528), ("mrconfigid", 576), ("mrowner", 624), ("mrownerconfig", 672), ("rtmr0", 720),
            ("rtmr1", 768), ("rtmr2", 816), ("rtmr3", 864), ("servtd_hash", 912),
        ]
        for (name, offset) in offsets {
            #expect(Array(report[offset..<(offset + 48)]) == (try value(provider, name)), "\(name) at \(offset)")
        }
        #expect(
            hex(Array(report[816..<864]))
                == "f57bb7ed82c6ae4a29e6c9879338c592c7d42a39135583e8ccbe3940f2344b0eb6eb8503db0ffd6a39ddd00cd07d8317")
    }

    @Test("static values are non-zero and RTMRs start at zero")
    func initialValues() throws {
        let provider = try makeProvider(TDXGuest.provider)
        for name in ["mrtd", "mrconfigid", "mrowner", "mrownerconfig", "servtd_hash"] {
            #expect(try value(provider, name).contains { $0 != 0 }, "\(name)")
        }
        for index in 0..<4 {
            #expect(try value(provider, "rtmr\(index)") == [UInt8](repeating: 0, count: 48))
        }
        #expect(Set(try ["mrtd", "mrconfigid", "mrowner"].map { try value(provider, $0) }).count == 3)
    }

    @Test("cca REMs extend with SHA-256")
    func ccaExtend() throws {
        let provider = try makeProvider(CCAGuest.provider)
        try write(provider, "rem0", [UInt8](repeating: 0, count: 32))
        #expect(hex(try value(provider, "rem0")) == "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b")
        #expect(throws: MRError.invalidWrite) { try write(provider, "rem1", [UInt8](repeating: 0, count: 31)) }
        #expect(try write(provider, "rem2", [UInt8](repeating: 0, count: 48)) == 32)  // cut to the size
    }

    @Test("many extends chain")
    func chain() throws {
        let provider = try makeProvider(TDXGuest.provider)
        let data = [UInt8](repeating: 0x5A, count: 48)
        var expected = [UInt8](repeating: 0, count: 48)
        for _ in 0..<100 {
            try write(provider, "rtmr3", data)
            expected = HashAlgorithm.sha384.extend(expected, with: data)
        }
        #expect(try value(provider, "rtmr3") == expected)
    }
}
