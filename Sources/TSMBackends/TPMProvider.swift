import SystemPackage
import TSMModel

/// The SHA-256 PCR bank of a TPM, as the `tpm` provider's backend reaches it
/// (TPM2_PCR_Read and TPM2_PCR_Extend).
public protocol PCRBank: Sendable {
    /// The SHA-256 values of `pcrs`, in that order. EIO when the TPM does not answer.
    func read(_ pcrs: [Int]) throws(Errno) -> [[UInt8]]
    /// TPM2_PCR_Extend of `pcr` with one SHA-256 digest. EIO when the TPM does not answer or
    /// refuses (the reason logged).
    func extend(_ pcr: Int, with digest: [UInt8]) throws(Errno)
}

extension BuiltinProviders {
    /// The `tpm` provider: the SHA-256 bank's PCRs 0-23 as registers `pcr0` ... `pcr23` (each a
    /// directory with `digest` and `hash_algo`, as an RTMR). PCRs 17-22, which only localities 3
    /// and 4 may extend, are read-only (mode 0444: opening one for writing is EACCES, root
    /// included); the others are 0664, a 32-byte write extending through TPM2_PCR_Extend. Every
    /// register is live: the TPM's own commands change them too.
    public static let tpm = ProviderDescriptor(
        name: "tpm",
        registers: (0..<24).map { pcr in
            RegisterDescriptor(
                name: "pcr\(pcr)", hash: .sha256,
                flags: (17...22).contains(pcr) ? .liveReadable : RegisterFlags.rtmr.union(.writable))
        })
}

/// The `tpm` provider's backend: a refresh reads every PCR of the bank from the TPM, an extend is
/// the TPM's. A failure of the TPM is the read's or the write's errno (EIO).
public struct TPMBackend: MeasurementBackend {
    let bank: any PCRBank

    public init(bank: any PCRBank) {
        self.bank = bank
    }

    /// Reads PCRs 0-23; the provider's table is ``BuiltinProviders/tpm`` (register N is PCR N).
    public func refresh(_ registers: inout RegisterValues) throws(MRError) {
        let pcrs = Array(registers.values.indices)
        do throws(Errno) {
            let values = try bank.read(pcrs)
            guard values.count == pcrs.count else { throw .ioError }
            registers.values = values
        } catch {
            throw .backend(error)
        }
    }

    public func extend(_ index: Int, with data: [UInt8], in registers: inout RegisterValues) throws(MRError) {
        do throws(Errno) {
            try bank.extend(index, with: data)
            guard let value = try bank.read([index]).first else { throw .ioError }
            registers.values[index] = value
        } catch {
            throw .backend(error)
        }
    }

    /// A refresh asks the TPM.
    public var refreshMayFail: Bool { true }
}
