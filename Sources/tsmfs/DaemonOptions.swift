import ArgumentParser
import Logging
import TSMBackends
import TSMDaemon

/// The options of a serving daemon that `mount` and `exec` share (exec hands them to its daemon).
struct DaemonOptions: ParsableArguments {
    @Option(
        name: .customLong("inject-fault"),
        help: ArgumentHelp(
            """
            Sysroots, for testing clients: make the next COUNT (default 1; all: every one) operations of KIND \
            fail. outblob: report generations fail with ERRNO (EBUSY, EIO, ETIMEDOUT, ENXIO, EINVAL, EINTR, \
            ENOMEM; default EIO); generation: outblob reads bump the entry's generation behind the reader's back; \
            extend: RTMR extends fail with ERRNO (extend@REGISTER, e.g. extend@rtmr2: only that register's); \
            mkdir: mkdirs under report/ fail with ERRNO; empty: report generations give an empty outblob. +SKIP \
            lets the first SKIP operations of KIND pass. Repeatable; off by default; each injected failure is \
            logged. Example: extend@rtmr2:EIO:all.
            """,
            valueName: "KIND[@REGISTER][:ERRNO][:COUNT|all][:+SKIP]"))
    var injectFaults: [FaultSpec] = []

    @Option(
        help: ArgumentHelp(
            "Keep the registers in FILE across restarts: every change is written and fsync'd before the write returns.",
            valueName: "FILE"))
    var state: String?

    @Option(name: .customLong("log-level"), help: "How much to log to stderr (default: notice; under exec: warning).")
    var logLevel: LogLevel?

    @Flag(
        name: .customLong("page-cache"), inversion: .prefixedNo,
        help:
            """
            Serve register files opened for reading from the kernel's page cache, dropped before every change is \
            acknowledged (--no-page-cache: every read reaches the daemon, as a direct-I/O file).
            """
    )
    var pageCache = true

    /// The daemon spec of these options and the guest and provider ones, serving `source` at
    /// `mountpoint`; `defaultLevel` when no `--log-level` was given.
    func spec(
        _ source: DaemonSpec.Source, mountpoint: String, guest: GuestOptions, providers: ProviderOptions,
        defaultLevel: Logger.Level
    ) -> DaemonSpec {
        DaemonSpec(
            source: source, mountpoint: mountpoint, providers: providers.providers, config: providers.config,
            guest: guest.guest?.definition.name, seed: guest.seed, options: guest.values, kernel: guest.kernel,
            unified: !guest.noUnified, faults: injectFaults.map(\.text), state: state,
            logLevel: (logLevel?.level ?? defaultLevel).rawValue, pageCache: pageCache)
    }
}

/// `--log-level`: a swift-log level by its name (what `Logger.Level`'s own conformance would accept,
/// without declaring one retroactively on a type of another module).
struct LogLevel: ExpressibleByArgument {
    let level: Logger.Level

    init?(argument: String) {
        guard let level = Logger.Level(rawValue: argument) else { return nil }
        self.level = level
    }

    static var allValueStrings: [String] { Logger.Level.allCases.map(\.rawValue) }

    static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
}
