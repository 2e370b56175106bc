import Foundation
import Glibc
import TestSupport

/// The `StressWorker` client, built beside `tsmfs`.
func stressWorkerBinary() -> String {
    URL(fileURLWithPath: tsmfsBinary()).deletingLastPathComponent().appendingPathComponent("StressWorker").path
}

/// One `StressWorker` child process, its output in a file (no pipe to fill up).
final class Worker {
    let process = Process()
    let outputPath: String
    /// The worker's end, observed (a pidfd).
    private(set) var exit: ProcessExit?
    private(set) var timedOut = false

    init(_ arguments: [String], directory: String, label: String) throws {
        outputPath = directory + "/worker-\(label).out"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: stressWorkerBinary())
        process.arguments = arguments
        let output = FileHandle(forWritingAtPath: outputPath)
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        exit = ProcessExit(process.processIdentifier)
    }

    /// Waits for the exit (on its pidfd) until `deadline`; a worker still running then is killed
    /// and marked ``timedOut``. Returns the exit status.
    @discardableResult
    func wait(deadline: Duration) -> Int32 {
        if exit?.wait(within: deadline) == false {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    var output: String {
        (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }

    /// The output's `key rest...` lines, as key and the fields after it.
    var lines: [(key: String, fields: [String])] {
        output.split(separator: "\n").map { line in
            let parts = line.split(separator: " ").map(String.init)
            return (parts.first ?? "", Array(parts.dropFirst()))
        }
    }

    /// The integer after `key` on its first line.
    func number(_ key: String) -> Int? {
        lines.first { $0.key == key }.flatMap { $0.fields.first }.flatMap { Int($0) }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Polls `condition` until it holds or `deadline` passes: observation with a bound, not a sleep.
/// Only for what nothing announces (another process's wait channel, a register others move);
/// a process's end is ``ProcessExit``'s, a file's appearance ``waitForFiles(_:within:)``'s.
func eventually(within deadline: Duration, _ condition: () -> Bool) -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + deadline
    while clock.now < end {
        if condition() { return true }
        usleep(1_000)
    }
    return condition()
}

/// Shell lines that start `tsmfs SERVICE ARGUMENTS --listen 127.0.0.1:0` in the background and
/// read its ready line through the FIFO `fifo`: observed, never slept for. Afterwards `$PID`
/// (the name given as `pid`) is its process and `$url` the address it serves; its stderr is in
/// `fifo.log`. A service that ends before its ready line ends the script with status 2.
func serviceStartScript(_ service: String, _ arguments: String = "", fifo: String, pid: String) -> String {
    """
    rm -f '\(fifo)'; mkfifo '\(fifo)'
    '\(tsmfsBinary())' \(service) \(arguments) --listen 127.0.0.1:0 > '\(fifo)' 2> '\(fifo).log' &
    \(pid)=$!
    read -r line < '\(fifo)' || { echo "tsmfs \(service) gave no ready line: $(cat '\(fifo).log')" >&2; exit 2; }
    url=${line##*ready on }
    """
}
