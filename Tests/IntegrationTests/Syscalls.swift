import Foundation
import Glibc
import TestSupport

/// Thin wrappers over the system calls a client makes, answering the errno on failure.
enum Sys {
    static func open(_ path: String, _ flags: Int32) -> Result<Int32, POSIXErrorCode> {
        let fd = Glibc.open(path, flags | O_CLOEXEC)
        return fd >= 0 ? .success(fd) : .failure(code())
    }

    static func pread(_ fd: Int32, count: Int, offset: Int64 = 0) -> Result<[UInt8], POSIXErrorCode> {
        var buffer = [UInt8](repeating: 0, count: max(count, 1))
        let n = buffer.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, count, off_t(offset)) }
        return n >= 0 ? .success(Array(buffer.prefix(n))) : .failure(code())
    }

    static func pwrite(_ fd: Int32, _ data: [UInt8], offset: Int64 = 0) -> Result<Int, POSIXErrorCode> {
        let n = data.withUnsafeBytes { Glibc.pwrite(fd, $0.baseAddress, data.count, off_t(offset)) }
        return n >= 0 ? .success(n) : .failure(code())
    }

    static func write(_ fd: Int32, _ data: [UInt8]) -> Result<Int, POSIXErrorCode> {
        let n = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, data.count) }
        return n >= 0 ? .success(n) : .failure(code())
    }

    /// open, read up to 8192 bytes from offset 0, close: what `cat` does with one read.
    static func readFile(_ path: String, count: Int = 8192) -> Result<[UInt8], POSIXErrorCode> {
        open(path, O_RDONLY).flatMap { fd in
            defer { close(fd) }
            return pread(fd, count: count)
        }
    }

    /// open for writing, one write of `data` at offset 0, close.
    static func writeFile(_ path: String, _ data: [UInt8], flags: Int32 = O_WRONLY) -> Result<Int, POSIXErrorCode> {
        open(path, flags).flatMap { fd in
            defer { close(fd) }
            return write(fd, data)
        }
    }

    static func stat(_ path: String) -> Result<Glibc.stat, POSIXErrorCode> {
        var st = Glibc.stat()
        return lstat(path, &st) == 0 ? .success(st) : .failure(code())
    }

    static func code() -> POSIXErrorCode {
        POSIXErrorCode(rawValue: errno) ?? .EIO
    }
}

/// What a shell command printed and returned.
struct ShellResult {
    var status: Int32
    var stdout: Data
    var stderr: String
    var text: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs `bash -c script` as a user would in a terminal; stderr goes through a file so that no
/// pipe can fill up while the command runs.
@discardableResult
func shell(_ script: String, environment: [String: String] = [:]) throws -> ShellResult {
    let directory = try makeTemporaryDirectory("tsmfs-sh")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let errPath = directory + "/stderr"
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", script]
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { $1 }
    process.environment = env
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle(forWritingAtPath: errPath)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let errText = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    return ShellResult(status: process.terminationStatus, stdout: outData, stderr: errText)
}

/// Lets system-call wrappers answer `Result<_, POSIXErrorCode>`. Kept retroactive (test-only, in the
/// test target alone): a wrapper error would rewrite every `.failure(.EXXX)` expectation.
// swift-format-ignore: AvoidRetroactiveConformances
extension POSIXErrorCode: @retroactive Error {}
