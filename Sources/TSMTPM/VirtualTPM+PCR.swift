import Glibc

/// A vTPM its holder has to itself (``VirtualTPM/holding(_:)``, ``VirtualTPM/reboot(boot:)``): no
/// other command reaches swtpm until the holder returns. Its commands go through the personality,
/// as ``VirtualTPM/transmit(_:)``'s do, without taking the command lock again.
public struct HeldTPM {
    let tpm: VirtualTPM

    /// PCR `index` (0-23) of `bank` (TPM2_PCR_Read). A bank that is not allocated is
    /// ``VTPMError/tpm(command:responseCode:)`` with TPM_RC_VALUE.
    public func readPCR(bank: TPMAlgorithm, index: Int) throws(VTPMError) -> [UInt8] {
        guard (0...23).contains(index) else {
            throw .commandRejected(reason: "PCR index \(index) outside 0...23", errno: EINVAL)
        }
        return try TPM2Commands.pcrReadDigest(tpm.send(TPM2Commands.pcrRead(bank: bank, index: index)), bank: bank)
    }

    /// Extends PCR `index` of `bank` with `digest` (TPM2_PCR_Extend, the PCR's empty password):
    /// PCR := H(PCR || digest). `digest` must be `bank.digestSize` bytes. The TPM refuses PCRs
    /// 17-22 at locality 0 (TPM_RC_LOCALITY).
    public func extendPCR(index: Int, bank: TPMAlgorithm, digest: [UInt8]) throws(VTPMError) {
        guard (0...23).contains(index) else {
            throw .commandRejected(reason: "PCR index \(index) outside 0...23", errno: EINVAL)
        }
        guard digest.count == bank.digestSize else {
            throw .commandRejected(
                reason: "\(digest.count)-byte digest for the \(bank) bank (\(bank.digestSize) bytes)", errno: EINVAL)
        }
        let response = try tpm.send(TPM2Commands.pcrExtend(index: index, bank: bank, digest: digest))
        try TPM2Commands.expectSuccess(response, command: "TPM2_PCR_Extend")
    }
}

extension VirtualTPM {
    /// Runs `body` with the TPM to itself (a boot's measurements, which no other command may
    /// come between).
    public func holding<Result>(_ body: (HeldTPM) throws(VTPMError) -> Result) throws(VTPMError) -> Result {
        try exclusive { () throws(VTPMError) -> Result in try body(HeldTPM(tpm: self)) }
    }

    /// PCR `index` (0-23) of `bank` (TPM2_PCR_Read), as ``HeldTPM/readPCR(bank:index:)``.
    public func readPCR(bank: TPMAlgorithm, index: Int) throws(VTPMError) -> [UInt8] {
        try holding { (held) throws(VTPMError) -> [UInt8] in try held.readPCR(bank: bank, index: index) }
    }

    /// Extends PCR `index` of `bank` with `digest`, as ``HeldTPM/extendPCR(index:bank:digest:)``.
    public func extendPCR(index: Int, bank: TPMAlgorithm, digest: [UInt8]) throws(VTPMError) {
        try holding { (held) throws(VTPMError) in try held.extendPCR(index: index, bank: bank, digest: digest) }
    }

    /// The allocated PCR banks and the PCRs each has (TPM2_GetCapability(TPM_CAP_PCRS)).
    public func allocatedBanks() throws(VTPMError) -> [TPMAlgorithm: [Int]] {
        try TPM2Commands.allocatedBanks(transmit(TPM2Commands.getAllocatedBanks()))
    }
}
