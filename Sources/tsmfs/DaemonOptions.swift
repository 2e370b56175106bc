import ArgumentParser
import Logging
import TSMBackends

/// The options of a serving daemon that `mount` and `exec` share (exec hands them to its daemon).
struct DaemonOptions: ParsableArguments {
    @Option(name: .customLong("inject-fault"), help: ArgumentHelp("Sysroots, for testing clients: make the next COUNT (default 1; all: every one) operations of KIND fail. outblob: report generations fail with ERRNO (EBUSY, EIO, ETIMEDOUT, ENXIO, EINVAL, EINTR, ENOMEM; default EIO); generation: outblob reads bump the entry's generation behind the reader's back; extend: RTMR extends fail with ERRNO (extend@REGISTER, e.g. extend@rtmr2: only that register's); mkdir: mkdirs under report/ fail with ERRNO; empty: report generations give an empty outblob. +SKIP lets the first SKIP operations of KIND pass. Repeatable; off by default; each injected failure is logged. Example: extend@rtmr2:EIO:all.", valueName: "KIND[@REGISTER][:ERRNO][:COUNT|all][:+SKIP]"))
    var injectFaults: [FaultSpec] = []

    @Option(help: ArgumentHelp("Keep the registers in FILE across restarts: every change is written and fsync'd before the write returns.", valueName: "FILE"))
    var state: String?

    @Option(name: .customLong("log-level"), help: "How much to log to stderr.")
    var logLevel: Logger.Level = .notice

    @Flag(name: .customLong("page-cache"), inversion: .prefixedNo, help: "Serve register files opened for reading from the kernel's page cache, dropped before every change is acknowledged (--no-page-cache: every read reaches the daemon, as a direct-I/O file).")
    var pageCache = true

    /// The same options as command-line words, to hand to another tsmfs process.
    var arguments: [String] {
        injectFaults.flatMap { ["--inject-fault", $0.text] } + (state.map { ["--state", $0] } ?? [])
            + ["--log-level", logLevel.rawValue] + (pageCache ? [] : ["--no-page-cache"])
    }
}
