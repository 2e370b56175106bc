import TSMEvidence

/// What a vTPM is started with.
public struct VTPMConfiguration: Sendable {
    /// The private directory of swtpm's state and sockets: an absolute path (swtpm changes
    /// directory to `/`), created 0700 when missing (its parent must exist), opened without
    /// following links, owned by this user and made owner-only.
    public var stateDirectory: String
    /// The seed of the mock EK CA that signs the EK certificate (`--seed`).
    public var seed: String
    /// The PCR banks swtpm_setup allocates at first start (swtpm_setup --pcr-banks).
    public var pcrBanks: [TPMAlgorithm]
    /// How long one command may take before swtpm is considered hung and killed (RSA key
    /// generation in software takes seconds).
    public var commandTimeoutSeconds: Int
    /// Where `swtpm` and `swtpm_setup` are; nil: looked up on PATH.
    public var programDirectory: String?

    /// A configuration; the defaults are the ones a mount uses.
    public init(
        stateDirectory: String, seed: String = MockSeed.default, pcrBanks: [TPMAlgorithm] = [.sha256, .sha384],
        commandTimeoutSeconds: Int = 120, programDirectory: String? = nil
    ) {
        self.programDirectory = programDirectory
        self.stateDirectory = stateDirectory
        self.seed = seed
        self.pcrBanks = pcrBanks
        self.commandTimeoutSeconds = commandTimeoutSeconds
    }

    /// The path to run `program` by: under ``programDirectory`` or the bare name (PATH).
    func program(_ name: String) -> String {
        programDirectory.map { "\($0)/\(name)" } ?? name
    }
}
