import Crypto
import Foundation
import Glibc
import Testing
import TestSupport

/// Every bad (and good) input the ABI defines, against every built-in value file, every
/// `hash_algo` file and every directory, on one mount. After each case the files it could have
/// touched are read back and compared with ``RegisterModel``: only a valid write changes anything.
@Suite("Bad-input matrix", .needsMount)
final class BadInputMatrixTests {
    let mount: MountedTSMFS
    var model: RegisterModel
    var cases = 0
    var verifiedReads = 0

    init() throws {
        mount = try MountedTSMFS()
        var values: [String: [UInt8]] = [:]
        for file in RFCv2Conformance.builtinFiles {
            let value = try #require(Sys.readFile(mount.path(file.path)).value, "\(file.path)")
            values[file.path] = value
        }
        model = RegisterModel(values: values, report0Template: values["tdx/report0"] ?? [])
        let report0 = mount.path("tdx/report0")
        model.report0MAC = { Sys.readFile(report0).value.map { Array($0.dropFirst(224).prefix(32)) } ?? [] }
    }

    deinit {
        #expect(mount.stop() == 0, "\(mount.log)")
    }

    var files: [ExpectedFile] { RFCv2Conformance.builtinFiles }
    var hashAlgoFiles: [(path: String, name: String)] {
        files.compactMap { file in
            file.hash.map { ((file.path as NSString).deletingLastPathComponent + "/hash_algo", $0) }
        }
    }
    var directories: [String] {
        let registers = files.compactMap { $0.hash == nil ? nil : ($0.path as NSString).deletingLastPathComponent }
        return [""] + Set(files.map { String($0.path.prefix { $0 != "/" }) }).sorted() + registers
    }

    func path(_ relative: String) -> String { relative.isEmpty ? mount.root : mount.path(relative) }

    /// Distinct data for each write, so that a wrong register or a wrong slice shows.
    func payload(_ count: Int) -> [UInt8] {
        let seed = cases &* 2_654_435_761
        return (0..<count).map { UInt8(truncatingIfNeeded: seed &+ $0 &* 13 &+ ($0 >> 8)) }
    }

    /// Reads back every file of the provider `relative` belongs to and compares with the model.
    func verify(after label: String, _ relative: String) {
        let provider = String(relative.prefix { $0 != "/" })
        for file in files where provider.isEmpty || file.path.hasPrefix(provider + "/") {
            verifiedReads += 1
            let value = Sys.readFile(path(file.path))
            #expect(
                value.value == model.expected(file.path),
                "after \(label): \(file.path) is \(value.value.map(hex) ?? "\(value)")")
        }
        for (algo, name) in hashAlgoFiles where provider.isEmpty || algo.hasPrefix(provider + "/") {
            verifiedReads += 1
            #expect(Sys.readFile(path(algo)).value == Array(name.utf8), "after \(label): \(algo)")
        }
    }

    /// Runs one case: compares what happened with what the ABI says, then reads back.
    func check(_ label: String, _ relative: String, observed: [Outcome], expected: [Outcome]) {
        cases += 1
        #expect(observed == expected, "\(relative): \(label): got \(observed), want \(expected)")
        verify(after: "\(relative): \(label)", relative)
    }

    func check(_ label: String, _ relative: String, observed: Outcome, expected: Outcome) {
        check(label, relative, observed: [observed], expected: [expected])
    }

    /// Opens `relative` with `flags`, runs `body` on the descriptor and closes it.
    func withOpen(_ relative: String, _ flags: Int32, _ body: (Int32) -> [Outcome]) -> [Outcome] {
        switch Sys.open(path(relative), flags) {
        case .success(let fd):
            defer { close(fd) }
            return [.ok] + body(fd)
        case .failure(let code):
            return [.failed(code)]
        }
    }

    /// The write and read sizes of the matrix for a register of `size` bytes.
    static func sizes(_ size: Int) -> [Int] { [0, 1, size - 1, size, size + 1, 4096, 65536] }
    /// The offsets of the matrix: inside, the last byte, the end, far past it.
    static func offsets(_ size: Int) -> [Int64] { [0, 1, Int64(size - 1), Int64(size), 1 << 40] }

    @Test("every value file, hash_algo file and directory against every bad input of ABI.md 1 and 2.5")
    func matrix() throws {
        // The model agrees with the tree before anything is written: the live registers are
        // computed here, not read back.
        for path in RegisterModel.live {
            #expect(Sys.readFile(self.path(path)).value == model.expected(path), "\(path) before any write")
        }
        for file in files {
            reads(file)
            if file.write == .none { readOnly(file) } else { writable(file) }
            fileStructure(file.path)
        }
        for (algo, name) in hashAlgoFiles { hashAlgo(algo, name) }
        for directory in directories { directoryCases(directory) }

        print(
            "bad-input matrix: \(cases) cases over \(files.count) value files, \(hashAlgoFiles.count) hash_algo files, "
                + "\(directories.count) directories; \(verifiedReads) read-backs")
        #expect(cases > 1500)
        #expect(files.filter { $0.write != .none }.count == 11)
        // Everything the matrix wrote is still there at the end, live registers included.
        verify(after: "the whole matrix", "")
    }

    /// pread at every offset and size: at most a page, EOF (0 bytes) at and past the end.
    func reads(_ file: ExpectedFile) {
        for offset in Self.offsets(file.size) {
            for count in Self.sizes(file.size) {
                let observed = withOpen(file.path, O_RDONLY) { fd in
                    [Outcome(Sys.pread(fd, count: count, offset: offset))]
                }
                let expected = SysfsRules.read(count: count, offset: offset, value: model.expected(file.path))
                check("pread \(count) at \(offset)", file.path, observed: observed, expected: [.ok, .read(expected)])
            }
        }
        check(
            "write through an O_RDONLY descriptor", file.path,
            observed: withOpen(file.path, O_RDONLY) { fd in [Outcome(Sys.pwrite(fd, payload(file.size)))] },
            expected: [.ok, .failed(.EBADF)])
    }

    /// Opening a 0444 file for writing fails with EACCES, root included, whatever the other flags.
    func readOnly(_ file: ExpectedFile) {
        let flags: [(String, Int32)] = [
            ("O_WRONLY", O_WRONLY), ("O_RDWR", O_RDWR), ("O_WRONLY|O_TRUNC", O_WRONLY | O_TRUNC),
            ("O_WRONLY|O_APPEND", O_WRONLY | O_APPEND), ("O_RDWR|O_TRUNC", O_RDWR | O_TRUNC),
            ("O_RDWR|O_APPEND", O_RDWR | O_APPEND), ("O_WRONLY|O_CREAT", O_WRONLY | O_CREAT),
        ]
        for (label, flag) in flags {
            check(
                "open \(label)", file.path, observed: withOpen(file.path, flag) { _ in [] },
                expected: [.failed(.EACCES)])
        }
    }

    /// Every size at every offset, then the descriptor-level cases: f_pos, O_APPEND, O_TRUNC, O_RDWR.
    func writable(_ file: ExpectedFile) {
        let size = file.size
        for offset in Self.offsets(size) {
            for count in Self.sizes(size) {
                let data = payload(count)
                let observed = withOpen(file.path, O_WRONLY) { fd in [Outcome(Sys.pwrite(fd, data, offset: offset))] }
                let expected = SysfsRules.write(count: count, offset: offset, size: size)
                if observed == [.ok, expected], expected == .wrote(size) { model.apply(file, data) }
                check("pwrite \(count) at \(offset)", file.path, observed: observed, expected: [.ok, expected])
            }
        }

        // write() moves the file position: the second whole write lands at `size` (EFBIG), as a
        // shell loop retrying the rest of a long line does.
        var data = payload(size)
        var observed = withOpen(file.path, O_WRONLY) { fd in
            [Outcome(Sys.write(fd, data)), Outcome(Sys.write(fd, data))]
        }
        if observed.dropFirst().first == .wrote(size) { model.apply(file, data) }
        check(
            "write() twice on one descriptor", file.path, observed: observed,
            expected: [.ok, .wrote(size), .failed(.EFBIG)])

        // A long line through write(): the first `size` bytes, then EFBIG for the rest.
        data = payload(size + 17)
        observed = withOpen(file.path, O_WRONLY) { fd in
            [Outcome(Sys.write(fd, data)), Outcome(Sys.write(fd, Array(data[size...])))]
        }
        if observed.dropFirst().first == .wrote(size) { model.apply(file, data) }
        check(
            "write() of size+17, then the rest", file.path, observed: observed,
            expected: [.ok, .wrote(size), .failed(.EFBIG)])

        // O_APPEND is ignored: the first write acts at offset 0, the next one at `size`.
        for (label, flags) in [("O_WRONLY|O_APPEND", O_WRONLY | O_APPEND), ("O_RDWR|O_APPEND", O_RDWR | O_APPEND)] {
            data = payload(size)
            observed = withOpen(file.path, flags) { fd in [Outcome(Sys.write(fd, data)), Outcome(Sys.write(fd, data))] }
            if observed.dropFirst().first == .wrote(size) { model.apply(file, data) }
            check(
                "\(label): write() twice", file.path, observed: observed,
                expected: [.ok, .wrote(size), .failed(.EFBIG)])
        }
        data = payload(size + 1)
        observed = withOpen(file.path, O_WRONLY | O_APPEND) { fd in [Outcome(Sys.write(fd, data))] }
        if observed == [.ok, .wrote(size)] { model.apply(file, data) }
        check("O_APPEND: write() of size+1", file.path, observed: observed, expected: [.ok, .wrote(size)])
        for bad in [1, size - 1] {
            check(
                "O_APPEND: write() of \(bad)", file.path,
                observed: withOpen(file.path, O_WRONLY | O_APPEND) { fd in [Outcome(Sys.write(fd, payload(bad)))] },
                expected: [.ok, .failed(.EINVAL)])
        }

        // O_TRUNC (shell `>`): accepted, truncates nothing; a write after it is an ordinary write.
        check(
            "open O_WRONLY|O_TRUNC, no write", file.path,
            observed: withOpen(file.path, O_WRONLY | O_TRUNC) { _ in [Outcome.size(of: path(file.path))] },
            expected: [.ok, .size(size)])
        data = payload(size)
        observed = withOpen(file.path, O_WRONLY | O_TRUNC) { fd in [Outcome(Sys.write(fd, data))] }
        if observed == [.ok, .wrote(size)] { model.apply(file, data) }
        check("open O_WRONLY|O_TRUNC, write", file.path, observed: observed, expected: [.ok, .wrote(size)])
        check(
            "open O_WRONLY|O_TRUNC, short write", file.path,
            observed: withOpen(file.path, O_WRONLY | O_TRUNC) { fd in [Outcome(Sys.write(fd, payload(size - 1)))] },
            expected: [.ok, .failed(.EINVAL)])
        for length in [0, 1, size * 2] {
            check(
                "ftruncate \(length)", file.path,
                observed: withOpen(file.path, O_WRONLY) { fd in
                    [Outcome(status: ftruncate(fd, off_t(length))), Outcome.size(of: path(file.path))]
                },
                expected: [.ok, .ok, .size(size)])
        }

        // O_RDWR: a write and a read on one descriptor; direct I/O shows the new value at once.
        data = payload(size)
        var after = model
        after.apply(file, data)
        observed = withOpen(file.path, O_RDWR) { fd in
            [Outcome(Sys.pwrite(fd, data)), Outcome(Sys.pread(fd, count: 4096))]
        }
        if observed.dropFirst().first == .wrote(size) { model = after }
        check(
            "O_RDWR: pwrite then pread", file.path, observed: observed,
            expected: [.ok, .wrote(size), .read(after.expected(file.path))])
        check(
            "O_RDWR: bad pwrite then pread", file.path,
            observed: withOpen(file.path, O_RDWR) { fd in
                [Outcome(Sys.pwrite(fd, payload(size), offset: 1)), Outcome(Sys.pread(fd, count: 4096))]
            },
            expected: [.ok, .failed(.EINVAL), .read(model.expected(file.path))])
        check(
            "read through an O_WRONLY descriptor", file.path,
            observed: withOpen(file.path, O_WRONLY) { fd in [Outcome(Sys.pread(fd, count: size))] },
            expected: [.ok, .failed(.EBADF)])
    }
}
