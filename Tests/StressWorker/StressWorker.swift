import Crypto
import Glibc

/// A client process for the stress and fault tests: it hammers a mounted tree with system calls,
/// checks what it reads, and prints what it did as `key value...` lines for the test to sum up.
///
///     StressWorker mix ROOT INITIAL SECONDS MAX_OPS CHAIN_BOUND SEED [OTHER_WRITERS]
///     StressWorker writer PATH DATA_HEX SECONDS MAX_WRITES READY_FILE [keep-open]
///
/// `mix` reads, extends and overwrites across providers until SECONDS or MAX_OPS, whichever comes
/// first, or until 100 operations in a row fail (the mount is gone). INITIAL is a file of
/// `path hex` lines: every register's value before any worker started.
/// Each extendable register is always extended with the same data, so its history is one chain
/// whatever the order of the writers; CHAIN_BOUND bounds the chain a read is matched against.
/// A later read must not go back in a chain by more than OTHER_WRITERS [0] positions: register
/// files come from the page cache, and a read that overlaps another process's extend may see the
/// value before it (each other writer has at most one extend in flight; DECISIONS.md, "Page cache").
/// It prints `ops`, `reads`, `reports`, `errors` and `violations` counts, one `extends PATH COUNT
/// DATA_HEX` line per extendable register, one `overwrites PATH COUNT VALUE_HEX...` line per
/// overwritable one, and up to ten `message` lines saying what went wrong.
///
/// `writer` extends PATH with DATA until an error, SECONDS or MAX_WRITES; it creates READY_FILE
/// after its first successful write, and prints `writes N` and `error ERRNO` (or `error 0`).
@main
struct StressWorker {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        case "mix" where arguments.count == 7 || arguments.count == 8:
            guard let seconds = Double(arguments[3]), let maxOps = Int(arguments[4]),
                let bound = Int(arguments[5]), let seed = UInt64(arguments[6]),
                let overlap = arguments.count == 8 ? Int(arguments[7]) : 0
            else { usage() }
            Mix(root: arguments[1], initialFile: arguments[2], chainBound: bound, seed: seed, overlap: overlap)
                .run(seconds: seconds, maxOps: maxOps)
        case "writer" where arguments.count == 6 || arguments.count == 7:
            guard let data = decodeHex(arguments[2]), let seconds = Double(arguments[3]),
                let maxWrites = Int(arguments[4])
            else { usage() }
            writer(
                path: arguments[1], data: data, seconds: seconds, maxWrites: maxWrites,
                readyFile: arguments[5], keepOpen: arguments.count == 7)
        default:
            usage()
        }
    }

    static func usage() -> Never {
        let text =
            "usage: StressWorker mix ROOT INITIAL SECONDS MAX_OPS CHAIN_BOUND SEED [OTHER_WRITERS]\n"
            + "       StressWorker writer PATH DATA_HEX SECONDS MAX_WRITES READY_FILE [keep-open]\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
        exit(2)
    }
}

// MARK: - mix

/// One register of the built-in tree, as the worker uses it.
struct Target {
    enum Kind { case extend, overwrite, readOnly }
    var path: String
    var size: Int
    var kind: Kind
    var hash: String = ""
}

final class Mix {
    let root: String
    var generator: SplitMix64
    let initial: [String: [UInt8]]
    let targets: [Target]
    /// Per extendable register: the data every worker extends it with, and its chain of values
    /// from the initial value (index 0) on.
    var data: [String: [UInt8]] = [:]
    var chains: [String: Chain] = [:]
    /// Per overwritable register: the values workers write.
    var overwrites: [String: [[UInt8]]] = [:]
    /// The highest chain position this worker has seen per register: a later read must not go back
    /// by more than ``overlap``, the extends other workers may have in flight.
    var seen: [String: Int] = [:]
    let overlap: Int

    var extendCount: [String: Int] = [:]
    var overwriteCount: [String: Int] = [:]
    var reads = 0, reportChecks = 0, errors = 0, violations = 0
    var messages: [String] = []

    init(root: String, initialFile: String, chainBound: Int, seed: UInt64, overlap: Int = 0) {
        self.root = root
        self.overlap = overlap
        generator = SplitMix64(seed: seed)
        var initial: [String: [UInt8]] = [:]
        for line in readText(initialFile).split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let bytes = decodeHex(String(parts[1])) { initial[String(parts[0])] = bytes }
        }
        self.initial = initial
        var targets: [Target] = []
        for i in 0..<4 { targets.append(Target(path: "tdx/rtmr\(i)/digest", size: 48, kind: .extend, hash: "sha384")) }
        for i in 0..<4 { targets.append(Target(path: "cca/rem\(i)/digest", size: 32, kind: .extend, hash: "sha256")) }
        targets.append(Target(path: "measurement-example/rtmr1/digest", size: 48, kind: .extend, hash: "sha384"))
        targets.append(Target(path: "measurement-example/user_data/digest", size: 64, kind: .overwrite))
        targets.append(Target(path: "tdx/reportdata", size: 64, kind: .overwrite))
        for name in ["mrtd", "mrconfigid", "mrowner", "mrownerconfig", "servtd_hash"] {
            targets.append(Target(path: "tdx/\(name)/digest", size: 48, kind: .readOnly))
        }
        targets.append(Target(path: "cca/rim/digest", size: 32, kind: .readOnly))
        targets.append(Target(path: "measurement-example/static_mr/digest", size: 48, kind: .readOnly))
        targets.append(Target(path: "measurement-example/config_mr/digest", size: 64, kind: .readOnly))
        targets.append(Target(path: "measurement-example/rtmr0/digest", size: 32, kind: .readOnly))
        targets.append(Target(path: "measurement-example/report_digest/digest", size: 64, kind: .readOnly))
        targets.append(Target(path: "measurement-example/full_report", size: 320, kind: .readOnly))
        targets.append(Target(path: "tdx/report0", size: 1024, kind: .readOnly))
        self.targets = targets

        for (number, target) in targets.enumerated() {
            switch target.kind {
            case .extend:
                let bytes = (0..<target.size).map { UInt8(truncatingIfNeeded: number * 37 + $0 * 11 + 5) }
                data[target.path] = bytes
                let start = initial[target.path] ?? []
                chains[target.path] = Chain(hash: target.hash, data: bytes, start: start, bound: chainBound)
            case .overwrite:
                overwrites[target.path] = (0..<4).map { k in
                    (0..<target.size).map { UInt8(truncatingIfNeeded: k * 71 + $0 * 3 + number) }
                }
            case .readOnly:
                break
            }
        }
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    func violation(_ text: String) {
        violations += 1
        if messages.count < 10 { messages.append(text) }
    }

    func error(_ text: String, _ code: Int32) {
        errors += 1
        if messages.count < 10 { messages.append("\(text): errno \(code)") }
    }

    /// One open, one read of up to 4096 bytes at offset 0, one close: as `cat` with one read.
    func readOnce(_ relative: String) -> [UInt8]? {
        let fd = open(path(relative), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            error("open \(relative)", errno)
            return nil
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n >= 0 else {
            error("read \(relative)", errno)
            return nil
        }
        return Array(buffer.prefix(n))
    }

    func writeOnce(_ relative: String, _ bytes: [UInt8]) -> Bool {
        let fd = open(path(relative), O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
            error("open for write \(relative)", errno)
            return false
        }
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else {
            error("write \(relative) returned \(n)", n < 0 ? errno : 0)
            return false
        }
        return true
    }

    /// Checks `value`, read as register `relative`, against what the register can have held.
    func check(_ relative: String, _ value: [UInt8], context: String) {
        if chains[relative] != nil {
            guard let position = chains[relative]?.position(of: value) else {
                violation("\(context): \(relative) = \(encodeHex(value)) is not in its extend chain")
                return
            }
            if position < seen[relative, default: 0] - overlap {
                violation(
                    "\(context): \(relative) went back from chain position \(seen[relative, default: 0]) to \(position)"
                )
            }
            seen[relative] = max(seen[relative, default: 0], position)
        } else if let values = overwrites[relative] {
            if value != initial[relative] && !values.contains(value) {
                violation("\(context): \(relative) = \(encodeHex(value)) was never written")
            }
        } else if let start = initial[relative], value != start {
            violation("\(context): read-only \(relative) changed")
        }
    }

    func checkFullReport() {
        guard let report = readOnce("measurement-example/full_report") else { return }
        reportChecks += 1
        guard report.count == 320 else { return violation("full_report: \(report.count) bytes in one read") }
        if Array(SHA512.hash(data: Array(report[0..<256]))) != Array(report[256..<320]) {
            violation("full_report: bytes 256..<320 are not SHA-512 of bytes 0..<256")
        }
        let fields = [
            ("static_mr", 0, 48), ("config_mr", 48, 64), ("rtmr0", 112, 32), ("rtmr1", 144, 48), ("user_data", 192, 64),
        ]
        for (name, offset, size) in fields {
            check("measurement-example/\(name)/digest", Array(report[offset..<(offset + size)]), context: "full_report")
        }
    }

    func checkReport0() {
        guard let report = readOnce("tdx/report0") else { return }
        reportChecks += 1
        guard report.count == 1024 else { return violation("report0: \(report.count) bytes in one read") }
        if report[0..<4] != [0x81, 0, 0, 0] { violation("report0: REPORTTYPE changed") }
        check("tdx/reportdata", Array(report[128..<192]), context: "report0")
        let offsets = [
            ("mrtd", 528), ("mrconfigid", 576), ("mrowner", 624), ("mrownerconfig", 672),
            ("rtmr0", 720), ("rtmr1", 768), ("rtmr2", 816), ("rtmr3", 864), ("servtd_hash", 912),
        ]
        for (name, offset) in offsets {
            check("tdx/\(name)/digest", Array(report[offset..<(offset + 48)]), context: "report0")
        }
    }

    func run(seconds: Double, maxOps: Int) {
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(Int(seconds * 1000))
        let extendable = targets.filter { $0.kind == .extend }
        let overwritable = targets.filter { $0.kind == .overwrite }
        var ops = 0
        var failingSince = 0  // ops since the last one without a failed system call
        while ops < maxOps && clock.now < end && failingSince < 100 {
            ops += 1
            let errorsBefore = errors
            defer { failingSince = errors > errorsBefore ? failingSince + 1 : 0 }
            let roll = generator.next() % 100
            if roll < 30 {
                let target = extendable[Int(generator.next() % UInt64(extendable.count))]
                if writeOnce(target.path, data[target.path] ?? []) {
                    extendCount[target.path, default: 0] += 1
                    // Our own extend happened after everything we saw: the next read is further on.
                    seen[target.path, default: 0] += 1
                }
            } else if roll < 40 {
                let target = overwritable[Int(generator.next() % UInt64(overwritable.count))]
                let values = overwrites[target.path] ?? []
                if writeOnce(target.path, values[Int(generator.next() % UInt64(values.count))]) {
                    overwriteCount[target.path, default: 0] += 1
                }
            } else if roll < 70 {
                let target = targets[Int(generator.next() % UInt64(targets.count))]
                guard let value = readOnce(target.path) else { continue }
                reads += 1
                if value.count != target.size {
                    violation("\(target.path): \(value.count) bytes in one read, not \(target.size)")
                } else if target.path != "measurement-example/full_report", target.path != "tdx/report0",
                    target.path != "measurement-example/report_digest/digest"
                {
                    check(target.path, value, context: "direct read")
                }
            } else if roll < 85 {
                checkFullReport()
            } else {
                checkReport0()
            }
        }
        var lines = [
            "ops \(ops)", "reads \(reads)", "reports \(reportChecks)", "errors \(errors)", "violations \(violations)",
        ]
        for target in extendable {
            lines.append(
                "extends \(target.path) \(extendCount[target.path, default: 0]) \(encodeHex(data[target.path] ?? []))")
        }
        for target in overwritable {
            lines.append(
                "overwrites \(target.path) \(overwriteCount[target.path, default: 0]) "
                    + (overwrites[target.path] ?? []).map(encodeHex).joined(separator: " "))
        }
        lines += messages.map { "message \($0)" }
        print(lines.joined(separator: "\n"))
    }
}
