import TSMGuest

extension DaemonSpec {
    /// The spec of a command line's values, as `mount` and `exec` parse them: `source` served
    /// at `mountpoint` (exec sets it later), `faults` as `--inject-fault` spells them.
    public init(
        source: Source, mountpoint: String, providers: [String], config: String?, guest: String?, seed: String?,
        options: GuestOptionValues, kernel: String?, unified: Bool, faults: [String], state: String?,
        logLevel: String, pageCache: Bool
    ) {
        self.init(source: source, mountpoint: mountpoint)
        self.providers = providers
        self.config = config
        self.guest = guest
        self.seed = seed
        self.options = options
        self.kernel = kernel
        self.unified = unified
        self.faults = faults
        self.state = state
        self.logLevel = logLevel
        daemon.pageCache = pageCache
    }

    /// ``checkGuest(in:)`` of a sysroot spec with these guest options: what the command line
    /// refuses before anything starts.
    public static func checkGuest(
        _ guest: String?, options: GuestOptionValues, kernel: String?,
        in guests: GuestCatalogue
    ) throws(Refusal) {
        var spec = DaemonSpec(source: .sysroot, mountpoint: "")
        spec.guest = guest
        spec.options = options
        spec.kernel = kernel
        try spec.checkGuest(in: guests)
    }
}
