import Crypto
import Foundation
import Glibc
import Testing
import TestSupport

/// What a write to a value file does.
enum WriteRule: Equatable {
    case none
    /// new = H(old ‖ data)
    case extend(String)
    case overwrite
}

/// One file of an RFC v2 tree as ABI.md section 0 and the core issue state it.
struct ExpectedFile {
    var path: String
    var mode: UInt32
    var size: Int
    var write: WriteRule
    /// The `hash_algo` beside a directory register's `digest`, or nil for F files.
    var hash: String?
}

func extendDigest(_ algorithm: String, _ old: [UInt8], _ data: [UInt8]) -> [UInt8] {
    switch algorithm {
    case "sha256": return Array(SHA256.hash(data: old + data))
    case "sha384": return Array(SHA384.hash(data: old + data))
    default: return Array(SHA512.hash(data: old + data))
    }
}

/// The RFC v2 conformance table for one mounted tree: every row of ABI.md section 0 that RFC v2
/// defines, checked through system calls, for whoever runs it (root included). It takes the root
/// path, so it can run against every backend and layout that serves the RFC v2 tree.
struct RFCv2Conformance {
    let root: String
    let files: [ExpectedFile]
    /// The checks that ran so far: each `check` counts itself as it executes.
    private let tally = Tally()

    final class Tally: @unchecked Sendable {  // one test's thread only
        var count = 0
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    /// The tree of the built-in providers, written out by hand (not derived from tsmfs's tables).
    static let builtinFiles: [ExpectedFile] = {
        var files: [ExpectedFile] = []
        func directory(_ path: String, _ hash: String, _ mode: UInt32, _ write: WriteRule) {
            let size = ["sha256": 32, "sha384": 48, "sha512": 64][hash] ?? 0
            files.append(ExpectedFile(path: path + "/digest", mode: mode, size: size, write: write, hash: hash))
        }
        directory("cca/rim", "sha256", 0o444, .none)
        for i in 0..<4 { directory("cca/rem\(i)", "sha256", 0o664, .extend("sha256")) }
        files.append(ExpectedFile(path: "measurement-example/full_report", mode: 0o444, size: 320, write: .none))
        directory("measurement-example/static_mr", "sha384", 0o444, .none)
        directory("measurement-example/config_mr", "sha512", 0o444, .none)
        directory("measurement-example/rtmr0", "sha256", 0o444, .none)
        directory("measurement-example/rtmr1", "sha384", 0o664, .extend("sha384"))
        directory("measurement-example/user_data", "sha512", 0o664, .overwrite)
        directory("measurement-example/report_digest", "sha512", 0o444, .none)
        for name in ["mrtd", "mrconfigid", "mrowner", "mrownerconfig", "servtd_hash"] {
            directory("tdx/\(name)", "sha384", 0o444, .none)
        }
        for i in 0..<4 { directory("tdx/rtmr\(i)", "sha384", 0o664, .extend("sha384")) }
        files.append(ExpectedFile(path: "tdx/reportdata", mode: 0o664, size: 64, write: .overwrite))
        files.append(ExpectedFile(path: "tdx/report0", mode: 0o444, size: 1024, write: .none))
        return files
    }()

    /// The checks the table defines: for every file, the stat, read and write (or read-only)
    /// checks its row calls for, and the hash_algo checks beside a directory register's digest.
    var definedChecks: Int {
        files.reduce(0) { total, file in
            let access =
                file.write == .none
                ? Self.readOnlyReadChecks + Self.readOnlyChecks
                : Self.writableReadChecks + Self.writeChecks
            return total + Self.statChecks + access + (file.hash == nil ? 0 : Self.hashAlgoChecks)
        }
    }

    static let statChecks = 5, readOnlyReadChecks = 5, writableReadChecks = 3, readOnlyChecks = 4
    static let writeChecks = 11 + 2 * badWrites([0, 0]).count, hashAlgoChecks = 5

    /// Every check, file by file. Returns how many checks ran, and fails when that is not the
    /// number the table defines: a row that silently skips its checks does not pass.
    @discardableResult
    func run(sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        let before = tally.count
        for file in files {
            checkStat(file)
            checkReads(file)
            if file.write == .none { checkReadOnly(file) } else { checkWrites(file) }
            if let hash = file.hash { checkHashAlgo(file, hash) }
        }
        let ran = tally.count - before
        #expect(
            ran == definedChecks, "the table defines \(definedChecks) checks over \(files.count) files; \(ran) ran",
            sourceLocation: sourceLocation)
        return ran
    }

    /// One check: counts itself, then expects.
    func check(_ condition: Bool, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        tally.count += 1
        #expect(condition, comment, sourceLocation: sourceLocation)
    }

    /// One check of a value against the expected one, both shown when they differ.
    func check<T: Equatable>(
        _ actual: T, _ expected: T, _ comment: Comment? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        tally.count += 1
        #expect(actual == expected, comment, sourceLocation: sourceLocation)
    }

    func checkStat(_ file: ExpectedFile) {
        guard let st = Sys.stat(path(file.path)).value else {
            check(false, "\(file.path): stat failed")
            return
        }
        check(st.st_mode & S_IFMT, S_IFREG, "\(file.path) is a regular file")
        check(st.st_mode & 0o7777, file.mode, "\(file.path) mode \(String(st.st_mode & 0o7777, radix: 8))")
        check(st.st_size, file.size, "\(file.path) st_size")
        check(st.st_uid == 0 && st.st_gid == 0, "\(file.path) owned by root:root")
        let parent = (file.path as NSString).deletingLastPathComponent
        check(Sys.stat(path(parent)).value.map { $0.st_mode & 0o7777 }, 0o755, "\(parent) is 0755")
    }

    /// Raw bytes, exactly the size, pread at any offset, EOF at and past the end.
    func checkReads(_ file: ExpectedFile) {
        let full = Sys.readFile(path(file.path))
        check(full.value?.count, file.size, "\(file.path): one read returns the whole value")
        guard let fd = Sys.open(path(file.path), O_RDONLY).value else {
            check(false, "\(file.path): open O_RDONLY failed")
            return
        }
        defer { close(fd) }
        if file.write == .none, let value = full.value {
            check(Sys.pread(fd, count: 8, offset: 1).value, Array(value[1..<9]), "\(file.path): pread at 1")
            check(
                Sys.pread(fd, count: 100, offset: Int64(file.size - 1)).value, [value[file.size - 1]],
                "\(file.path): pread of the last byte")
        }
        check(Sys.pread(fd, count: 10, offset: Int64(file.size)).value, [], "\(file.path): EOF at the size")
        check(Sys.pread(fd, count: 10, offset: 1 << 40).value, [], "\(file.path): EOF far past the size")
    }

    /// Opening for write fails with EACCES, root included; the value stays.
    func checkReadOnly(_ file: ExpectedFile) {
        let before = Sys.readFile(path(file.path)).value
        check(Sys.open(path(file.path), O_WRONLY).error, .EACCES, "\(file.path): O_WRONLY")
        check(Sys.open(path(file.path), O_RDWR).error, .EACCES, "\(file.path): O_RDWR")
        check(Sys.open(path(file.path), O_WRONLY | O_TRUNC).error, .EACCES, "\(file.path): O_WRONLY|O_TRUNC")
        check(Sys.readFile(path(file.path)).value, before, "\(file.path): unchanged")
    }

    func expectedAfterWrite(_ file: ExpectedFile, old: [UInt8], data: [UInt8]) -> [UInt8] {
        switch file.write {
        case .extend(let hash): return extendDigest(hash, old, Array(data.prefix(file.size)))
        case .overwrite: return Array(data.prefix(file.size))
        case .none: return old
        }
    }

    /// The write rules: exactly the size at offset 0; EINVAL, EFBIG; a longer write cut to size.
    func checkWrites(_ file: ExpectedFile) {
        let target = path(file.path)
        guard let fd = Sys.open(target, O_RDWR).value else {
            check(false, "\(file.path): open O_RDWR failed")
            return
        }
        defer { close(fd) }
        func current() -> [UInt8] { Sys.pread(fd, count: 4096).value ?? [] }
        var value = current()
        check(value.count, file.size)
        let size = file.size
        let data = (0..<size).map { UInt8(($0 * 7 + 3) & 0xFF) }

        // Exactly the size at offset 0.
        check(Sys.pwrite(fd, data).value, size, "\(file.path): full write")
        value = expectedAfterWrite(file, old: value, data: data)
        check(current(), value, "\(file.path): value after a full write (read on the same fd: direct I/O)")

        // Bad sizes and offsets: errno, and nothing changes.
        let bad = Self.badWrites(data)
        for (payload, offset, code) in bad {
            check(
                Sys.pwrite(fd, payload, offset: offset).error, code, "\(file.path): \(payload.count) bytes at \(offset)"
            )
            check(current(), value, "\(file.path): unchanged after \(payload.count) bytes at \(offset)")
        }

        // Longer than the register at offset 0: a short write of the size, using the first bytes.
        let long = data.reversed() + [UInt8](repeating: 0xEE, count: 4096)
        check(Sys.pwrite(fd, Array(long), offset: 0).value, size, "\(file.path): long write is cut to the size")
        value = expectedAfterWrite(file, old: value, data: Array(long))
        check(current(), value)

        // O_TRUNC is accepted, and ftruncate to 0 is a no-op: st_size stays the size.
        let trunc = Sys.writeFile(target, data, flags: O_WRONLY | O_TRUNC)
        check(trunc.value, size, "\(file.path): O_TRUNC")
        value = expectedAfterWrite(file, old: value, data: data)
        check(Glibc.ftruncate(fd, 0), 0, "\(file.path): ftruncate 0")
        check(Sys.stat(target).value?.st_size, size)
        check(current(), value)

        // O_APPEND is ignored: the first write on the handle acts at offset 0.
        let append = Sys.writeFile(target, data, flags: O_WRONLY | O_APPEND)
        check(append.value, size, "\(file.path): O_APPEND")
        value = expectedAfterWrite(file, old: value, data: data)
        check(current(), value)
    }

    /// Writes of a bad size or at a bad offset, for a register of `data.count` bytes, and the
    /// errno each gives.
    static func badWrites(_ data: [UInt8]) -> [([UInt8], Int64, POSIXErrorCode)] {
        let size = data.count
        return [
            (Array(data.prefix(size - 1)), 0, .EINVAL),
            ([1], 0, .EINVAL),
            (Array(data.prefix(size - 1)), 1, .EINVAL),
            (data, 1, .EINVAL),
            ([1], Int64(size - 1), .EINVAL),
            (data, Int64(size), .EFBIG),
            ([1], Int64(size), .EFBIG),
            (data, 1 << 40, .EFBIG),
        ]
    }

    func checkHashAlgo(_ file: ExpectedFile, _ hash: String) {
        let algo = (file.path as NSString).deletingLastPathComponent + "/hash_algo"
        check(Sys.readFile(path(algo)).value, Array(hash.utf8), "\(algo): the name, no newline")
        let st = Sys.stat(path(algo)).value
        check(st.map { $0.st_mode & 0o7777 }, 0o444, "\(algo) mode")
        check(st?.st_size, 4096, "\(algo) st_size")
        check(Sys.open(path(algo), O_WRONLY).error, .EACCES, "\(algo): open for write")
        check(Sys.open(path(algo), O_RDWR).error, .EACCES, "\(algo): open O_RDWR")
    }
}
