import SystemPackage
import TSMModel

/// The PCR banks of a TPM, as the `tpm` provider's backend reaches them (TPM2_PCR_Read and
/// TPM2_PCR_Extend).
public protocol PCRBank: Sendable {
    /// The values of `pcrs` in `bank`, in that order. EIO when the TPM does not answer.
    func read(_ pcrs: [Int], bank: HashAlgorithm) throws(Errno) -> [[UInt8]]
    /// TPM2_PCR_Extend of `pcr` in `bank` with one digest of the bank's size. EIO when the TPM
    /// does not answer or refuses (the reason logged).
    func extend(_ pcr: Int, bank: HashAlgorithm, with digest: [UInt8]) throws(Errno)
}

extension BuiltinProviders {
    /// A TPM's PCRs: 0-23.
    public static let pcrCount = 24

    /// The `tpm` provider over the PCR banks `banks` (SHA-256 first): PCR N of the SHA-256 bank is
    /// register `pcrN`, of another bank `pcrN_ALG` (`pcr10_sha384`), each a directory with
    /// `digest` and `hash_algo`, as an RTMR; registers bank after bank, PCR 0 to 23 within one.
    /// PCRs 17-22, which only localities 3 and 4 may extend, are read-only (mode 0444: opening one
    /// for writing is EACCES, root included); the others are 0664, a write of the bank's digest
    /// size extending through TPM2_PCR_Extend. Every register is live: the TPM's own commands
    /// change them too.
    public static func tpm(banks: [HashAlgorithm] = [.sha256]) -> ProviderDescriptor {
        ProviderDescriptor(
            name: "tpm",
            registers: banks.flatMap { bank in
                (0..<pcrCount).map { pcr in
                    RegisterDescriptor(
                        name: bank == .sha256 ? "pcr\(pcr)" : "pcr\(pcr)_\(bank.rawValue)", hash: bank,
                        flags: (17...22).contains(pcr) ? .liveReadable : RegisterFlags.rtmr.union(.writable))
                }
            })
    }
}

/// The `tpm` provider's backend: a refresh reads every PCR of its banks from the TPM, an extend is
/// the TPM's. A failure of the TPM is the read's or the write's errno (EIO).
public struct TPMBackend: MeasurementBackend {
    let bank: any PCRBank
    let banks: [HashAlgorithm]

    /// Over the table ``BuiltinProviders/tpm(banks:)`` made of `banks`.
    public init(bank: any PCRBank, banks: [HashAlgorithm] = [.sha256]) {
        self.bank = bank
        self.banks = banks
    }

    /// Register `index` is PCR `index % 24` of bank `index / 24`.
    func place(_ index: Int) -> (bank: HashAlgorithm, pcr: Int) {
        (banks[index / BuiltinProviders.pcrCount], index % BuiltinProviders.pcrCount)
    }

    public func refresh(_ registers: inout RegisterValues) throws(MRError) {
        let pcrs = Array(0..<BuiltinProviders.pcrCount)
        do throws(Errno) {
            var values: [[UInt8]] = []
            for algorithm in banks {
                let read = try bank.read(pcrs, bank: algorithm)
                guard read.count == pcrs.count else { throw .ioError }
                values += read
            }
            guard values.count == registers.values.count else { throw .ioError }
            registers.values = values
        } catch {
            throw .backend(error)
        }
    }

    public func extend(_ index: Int, with data: [UInt8], in registers: inout RegisterValues) throws(MRError) {
        let (algorithm, pcr) = place(index)
        do throws(Errno) {
            try bank.extend(pcr, bank: algorithm, with: data)
            guard let value = try bank.read([pcr], bank: algorithm).first else { throw .ioError }
            registers.values[index] = value
        } catch {
            throw .backend(error)
        }
    }

    /// A refresh asks the TPM.
    public var refreshMayFail: Bool { true }
}
