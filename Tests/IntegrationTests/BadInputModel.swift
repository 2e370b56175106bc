import Crypto
import Foundation
import Glibc
import TestSupport

/// What one system call (or a short sequence on one descriptor) answered.
enum Outcome: Equatable, CustomStringConvertible {
    /// A write's return value.
    case wrote(Int)
    /// A read's bytes.
    case read([UInt8])
    /// Success without a value (open, ftruncate, ...).
    case ok
    /// `st_size` from stat.
    case size(Int)
    case failed(POSIXErrorCode)

    var description: String {
        switch self {
        case .wrote(let n): return "wrote \(n)"
        case .read(let bytes):
            return "read \(bytes.count) bytes \(hex(Array(bytes.prefix(12))))\(bytes.count > 12 ? "..." : "")"
        case .ok: return "ok"
        case .size(let n): return "st_size \(n)"
        case .failed(let code): return "\(code)"
        }
    }

    init(_ result: Result<Int, POSIXErrorCode>) {
        switch result {
        case .success(let n): self = .wrote(n)
        case .failure(let code): self = .failed(code)
        }
    }

    init(_ result: Result<[UInt8], POSIXErrorCode>) {
        switch result {
        case .success(let bytes): self = .read(bytes)
        case .failure(let code): self = .failed(code)
        }
    }

    /// A call returning 0 or -1 with errno.
    init(status: Int32) {
        self = status == 0 ? .ok : .failed(Sys.code())
    }

    /// The `st_size` of `path`.
    static func size(of path: String) -> Outcome {
        switch Sys.stat(path) {
        case .success(let st): return .size(Int(st.st_size))
        case .failure(let code): return .failed(code)
        }
    }
}

/// The register values the matrix expects, kept independently of tsmfs: plain and extendable
/// registers change only through the writes the matrix makes (new = H(old ‖ data) or data), and
/// the live registers are recomputed here from ABI.md 2.7 and 3.6.
struct RegisterModel {
    var values: [String: [UInt8]]
    /// report0's constant parts (REPORTTYPE, CPUSVN, TEE_TCB_INFO, attributes, XFAM), taken from
    /// the first read.
    let report0Template: [UInt8]
    /// report0's MAC (224..<256) as tsmfs serves it now: HMAC under the daemon's own key, which no
    /// model can know. Everything it covers is modelled; the MAC is checked by TDReportQuoteTests
    /// and the Intel driver's GET_QUOTE test.
    var report0MAC: () -> [UInt8] = { [UInt8](repeating: 0, count: 32) }

    static let exampleHead = ["static_mr", "config_mr", "rtmr0", "rtmr1", "user_data"].map {
        "measurement-example/\($0)/digest"
    }
    static let report0Fields: [(String, Int)] = [
        ("tdx/reportdata", 128), ("tdx/mrtd/digest", 528), ("tdx/mrconfigid/digest", 576), ("tdx/mrowner/digest", 624),
        ("tdx/mrownerconfig/digest", 672), ("tdx/rtmr0/digest", 720), ("tdx/rtmr1/digest", 768),
        ("tdx/rtmr2/digest", 816), ("tdx/rtmr3/digest", 864), ("tdx/servtd_hash/digest", 912),
    ]
    static let live: Set<String> = [
        "measurement-example/full_report", "measurement-example/report_digest/digest", "tdx/report0",
    ]

    /// What reading `path` must give now.
    func expected(_ path: String) -> [UInt8] {
        switch path {
        case "measurement-example/report_digest/digest":
            return Array(SHA512.hash(data: Self.exampleHead.flatMap { values[$0] ?? [] }))
        case "measurement-example/full_report":
            let head = Self.exampleHead.flatMap { values[$0] ?? [] }
            return head + Array(SHA512.hash(data: head))
        case "tdx/report0":
            var report = report0Template
            for (field, offset) in Self.report0Fields {
                let bytes = values[field] ?? []
                report.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
            }
            // TEE_TCB_INFO_HASH, TEE_INFO_HASH (SHA-384 of TEE_TCB_INFO, of TDINFO), then the MAC.
            report.replaceSubrange(32..<80, with: Array(SHA384.hash(data: report[256..<495])))
            report.replaceSubrange(80..<128, with: Array(SHA384.hash(data: report[512..<1024])))
            let mac = report0MAC()
            if mac.count == 32 { report.replaceSubrange(224..<256, with: mac) }
            return report
        default:
            return values[path] ?? []
        }
    }

    /// A write the ABI accepts: extend or overwrite with the first `size` bytes.
    mutating func apply(_ file: ExpectedFile, _ data: [UInt8]) {
        let used = Array(data.prefix(file.size))
        switch file.write {
        case .extend(let hash): values[file.path] = extendDigest(hash, values[file.path] ?? [], used)
        case .overwrite: values[file.path] = used
        case .none: break
        }
    }
}

/// The sysfs rules of ABI.md section 1 and 2.5, written out here rather than taken from tsmfs.
enum SysfsRules {
    static let page = 4096

    /// What `pwrite(count bytes at offset)` to a writable register of `size` bytes answers.
    /// An empty write returns 0 everywhere: sysfs answers EFBIG for one at offset >= size, but the
    /// kernel's FUSE client answers an empty write itself without asking the daemon.
    static func write(count: Int, offset: Int64, size: Int) -> Outcome {
        if count == 0 { return .wrote(0) }
        if offset >= Int64(size) { return .failed(.EFBIG) }
        let accepted = min(count, page, size - Int(offset))
        return offset == 0 && accepted == size ? .wrote(size) : .failed(.EINVAL)
    }

    /// What `pread(count bytes at offset)` of `value` answers: at most a page, EOF at the end.
    static func read(count: Int, offset: Int64, value: [UInt8]) -> [UInt8] {
        guard count > 0, offset < Int64(value.count) else { return [] }
        let start = Int(offset)
        return Array(value[start..<min(value.count, start + min(count, page))])
    }
}
