import Testing
import TSMModel

@Suite("sysfs binary attribute rules (ABI.md 1)")
struct AttributeRulesTests {
    /// (offset, count, size) -> accepted count, or the error.
    @Test(
        "write clamp",
        arguments: [
            (Int64(0), 48, 48, Result<Int, MRError>.success(48)),
            (0, 47, 48, .failure(.invalidWrite)),
            (0, 1, 48, .failure(.invalidWrite)),
            (0, 49, 48, .success(48)),
            (0, 4096, 48, .success(48)),
            (0, 65536, 48, .success(48)),
            (0, 0, 48, .success(0)),
            (1, 47, 48, .failure(.invalidWrite)),
            (1, 48, 48, .failure(.invalidWrite)),
            (47, 1, 48, .failure(.invalidWrite)),
            (48, 48, 48, .failure(.writePastEnd)),
            (48, 0, 48, .failure(.writePastEnd)),
            (1 << 40, 48, 48, .failure(.writePastEnd)),
            (-1, 48, 48, .failure(.invalidWrite)),
            (0, 4096, 4096, .success(4096)),
            (0, 8192, 4096, .success(4096)),
        ])
    func write(offset: Int64, count: Int, size: Int, expected: Result<Int, MRError>) {
        let result = Result { () throws(MRError) -> Int in
            try AttributeRules.acceptedWrite(offset: offset, count: count, size: size)
        }
        #expect(result == expected)
    }

    @Test(
        "read range",
        arguments: [
            (Int64(0), 4096, 48, 0..<48),
            (Int64(0), 10, 48, 0..<10),
            (Int64(40), 100, 48, 40..<48),
            (Int64(47), 1, 48, 47..<48),
            (Int64(48), 1, 48, 0..<0),
            (Int64(1 << 40), 1, 48, 0..<0),
            (Int64(0), 0, 48, 0..<0),
            (Int64(0), 8192, 8192, 0..<4096),
        ])
    func read(offset: Int64, count: Int, size: Int, expected: Range<Int>) {
        #expect(AttributeRules.readRange(offset: offset, count: count, size: size) == expected)
    }

    @Test("one errno per failure")
    func errnoTable() {
        #expect(MRError.invalidWrite.errno.rawValue == 22)  // EINVAL
        #expect(MRError.writePastEnd.errno.rawValue == 27)  // EFBIG
        #expect(MRError.accessDenied.errno.rawValue == 13)  // EACCES
        #expect(MRError.backend(.init(rawValue: 6)).errno.rawValue == 6)  // ENXIO passes through
        #expect(MRError.backend(.init(rawValue: 16)).errno.rawValue == 16)  // EBUSY passes through
    }
}
