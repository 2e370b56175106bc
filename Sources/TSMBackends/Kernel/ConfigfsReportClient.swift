import Glibc
import Synchronization
import SystemPackage

/// A careful client of the kernel's configfs-tsm report interface
/// (`/sys/kernel/config/tsm/report/`, ABI.md 4), as the kernel backend uses it:
///
/// - one private entry per request (`mkdir` with a name unique to this process, `rmdir` after, on
///   errors too), so no other requester shares its generation;
/// - `privlevel` set to `privlevel_floor` when the provider shows one above 0 (SEV-SNP at VMPL > 0);
/// - `generation` read after the inblob store and again after the outblob read; a mismatch means
///   someone changed the entry in between, and the whole request is retried with a new entry, at
///   most ``maxAttempts`` times (then EBUSY);
/// - EBUSY (a TDX quote still in flight, or an instance count the kernel refuses) is retried with
///   a doubling backoff, at most ``maxAttempts`` times, then passed on;
/// - any other errno (ENXIO, EIO, ETIMEDOUT, EINVAL, ...) is passed on at once, after a log line
///   naming the file.
public struct ConfigfsReportClient: Sendable {
    /// The report directory relative to a kernel root.
    public static let relativePath = "sys/kernel/config/tsm/report"
    /// Attempts per request, for EBUSY and for a changed generation alike.
    public static let maxAttempts = 5
    /// The first EBUSY backoff, doubled on each retry (10, 20, 40, 80 ms).
    static let firstBackoffMicroseconds: UInt32 = 10_000

    private static let sequence = Mutex<UInt64>(0)

    /// The `report/` directory.
    public let directory: String
    public let files: KernelFiles

    public init(directory: String, log: @escaping KernelLog) {
        self.directory = directory
        self.files = KernelFiles(log: log)
    }

    /// The `provider` text of a probe entry, without its newline (`tdx_guest`, `sev_guest`, ...).
    /// ENXIO from `mkdir` when no provider is registered.
    public func providerName() throws(Errno) -> String {
        try withEntry { (entry: String) throws(Errno) -> String in
            var text = try files.read(entry + "/provider")
            while text.last == UInt8(ascii: "\n") { text.removeLast() }
            return String(decoding: text, as: UTF8.self)
        }
    }

    /// The outblob of a report over `inblob` (64 bytes for TDX and SEV-SNP): a quote or an
    /// attestation report. Throws the errno the kernel gave (see the type's rules).
    public func report(inblob: [UInt8]) throws(Errno) -> [UInt8] {
        var backoff = Self.firstBackoffMicroseconds
        var attempt = 1
        while true {
            do throws(Errno) {
                if let blob = try withEntry({ (entry: String) throws(Errno) -> [UInt8]? in
                    try attemptOnce(entry, inblob)
                }) {
                    return blob
                }
                guard attempt < Self.maxAttempts else {
                    files.log("\(directory): generation changed during each of \(attempt) attempts; giving up (EBUSY)")
                    throw Errno.resourceBusy
                }
                files.log("\(directory): generation changed while the report was made; retrying")
            } catch {
                guard error == .resourceBusy, attempt < Self.maxAttempts else { throw error }
                usleep(backoff)
                backoff *= 2
            }
            attempt += 1
        }
    }

    /// One request in a fresh entry: nil when the generation moved under it.
    private func attemptOnce(_ entry: String, _ inblob: [UInt8]) throws(Errno) -> [UInt8]? {
        // SEV-SNP under an SVSM or at VMPL > 0: ask at the driver's own level, the lowest it allows.
        if KernelFiles.exists(entry + "/privlevel_floor") {
            let floor = try number(entry + "/privlevel_floor")
            if floor > 0 { try files.write(entry + "/privlevel", Array("\(floor)\n".utf8)) }
        }
        try files.write(entry + "/inblob", inblob)
        let before = try generation(entry)
        let blob = try files.read(entry + "/outblob")
        let after = try generation(entry)
        return before == after ? blob : nil
    }

    private func generation(_ entry: String) throws(Errno) -> UInt64 {
        try number(entry + "/generation")
    }

    /// A text attribute holding one decimal number (`%lu\n`, `%u\n`); EIO, logged, if it does not.
    private func number(_ path: String) throws(Errno) -> UInt64 {
        var text = try files.read(path)
        while text.last == UInt8(ascii: "\n") { text.removeLast() }
        guard let value = UInt64(String(decoding: text, as: UTF8.self)) else {
            throw files.fail("parse", path, .ioError)
        }
        return value
    }

    /// Runs `body` in a new private entry and removes the entry afterwards, whatever happened.
    private func withEntry<T>(_ body: (String) throws(Errno) -> T) throws(Errno) -> T {
        let serial = Self.sequence.withLock { (value: inout UInt64) -> UInt64 in
            value += 1
            return value
        }
        let entry = directory + "/tsmfs-\(getpid())-\(serial)"
        try files.makeDirectory(entry)
        defer {
            // Logged inside; nothing else to do about an entry the kernel will not remove.
            _ = try? files.removeDirectory(entry)
        }
        return try body(entry)
    }
}
