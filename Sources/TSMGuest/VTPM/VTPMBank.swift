import Logging
import SystemPackage
import TSMBackends
import TSMEventLog
import TSMModel
import TSMTPM

/// The vTPM's SHA-256 bank for the `tpm` provider: TPM2_PCR_Read and TPM2_PCR_Extend through
/// ``VirtualTPM``; a failure is logged and answered with its errno (EIO for a TPM gone).
struct VTPMBank: PCRBank {
    let tpm: VirtualTPM
    let errorLog: Assembly.Log

    func read(_ pcrs: [Int], bank: HashAlgorithm) throws(Errno) -> [[UInt8]] {
        let algorithm = Self.algorithm(bank)
        var values: [[UInt8]] = []
        for pcr in pcrs {
            values.append(
                try answer("TPM2_PCR_Read of PCR \(pcr) (\(bank.rawValue))") { () throws(VTPMError) in
                    try tpm.readPCR(bank: algorithm, index: pcr)
                })
        }
        return values
    }

    func extend(_ pcr: Int, bank: HashAlgorithm, with digest: [UInt8]) throws(Errno) {
        try answer("TPM2_PCR_Extend of PCR \(pcr) (\(bank.rawValue))") { () throws(VTPMError) in
            try tpm.extendPCR(index: pcr, bank: Self.algorithm(bank), digest: digest)
        }
    }

    static func algorithm(_ hash: HashAlgorithm) -> TPMAlgorithm {
        switch hash {
        case .sha256: .sha256
        case .sha384: .sha384
        case .sha512: .sha512
        }
    }

    /// The banks the provider shows: SHA-256, then SHA-384 when the TPM has all 24 of its PCRs.
    func banks() throws(VTPMError) -> [HashAlgorithm] {
        let allocated = try tpm.allocatedBanks()
        return [.sha256] + ((allocated[.sha384]?.count ?? 0) == BuiltinProviders.pcrCount ? [.sha384] : [])
    }

    private func answer<T>(_ what: String, _ body: () throws(VTPMError) -> T) throws(Errno) -> T {
        do {
            return try body()
        } catch {
            errorLog("vTPM: \(what) failed (\(Errno(rawValue: error.errno))): \(error)")
            throw Errno(rawValue: error.errno)
        }
    }

    /// Extends the boot log into the PCRs after a TPM reset (every start is one: swtpm starts
    /// with TPM2_Startup(CLEAR); so is every reboot), so that its replay is the PCRs. PCRs that
    /// already hold the replay (a start that was no reset) are left; any other value is refused.
    /// `tpm` is held throughout: no other command comes between the boot's measurements.
    static func measureBoot(_ log: TPMEventLog, on tpm: HeldTPM) throws(VTPMError) {
        for (position, bank) in log.banks.enumerated() {
            let replay = log.replay(bank: bank)
            let zero = [UInt8](repeating: 0, count: bank.digestSize)
            var fresh: Set<Int> = []
            for pcr in log.measuredPCRs {
                let value = try tpm.readPCR(bank: Self.algorithm(bank), index: pcr)
                if value == replay[pcr] { continue }
                guard value == zero else {
                    throw .provisioning(
                        reason: "PCR \(pcr) (\(bank.rawValue)) holds neither zero nor the boot log's replay")
                }
                fresh.insert(pcr)
            }
            for event in log.events where fresh.contains(event.pcr) {
                try tpm.extendPCR(index: event.pcr, bank: Self.algorithm(bank), digest: event.digests[position])
            }
        }
    }
}

/// swift-log for the engine, through the assembly's two logs: errors (and worse) to the error
/// log, notices and warnings to the log, the rest dropped (the daemon's level applies after).
struct AssemblyLogHandler: LogHandler {
    let log: Assembly.Log
    let errorLog: Assembly.Log
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .notice

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }
        let details = fields.sorted { $0.key < $1.key }.map { " \($0)=\($1)" }.joined()
        if event.level >= .error { errorLog("\(event.message)\(details)") } else { log("\(event.message)\(details)") }
    }
}
