import TSMBackends
import TSMBytes
import TSMEvidence
import TSMGuest
import TSMModel

/// SEV-SNP on a real guest kernel (`--backend kernel`, Linux 6.7+): the read-only `sev-snp`
/// provider with the launch values of one configfs-tsm report of `sev_guest`.
public enum SNPKernel: KernelInterface {
    public static func fromReports(
        _ client: ConfigfsReportClient, root: String,
        log: @escaping KernelLog
    ) throws(KernelGuestSetup.Failure) -> KernelGuestSetup.Found {
        let report: SNPReport
        do {
            report = try SNPReport.parse(try client.report(inblob: [UInt8](repeating: 0, count: 64)))
        } catch {
            throw .unusable("\(client.directory): cannot get an SEV-SNP report: \(error)")
        }
        var descriptor = SNPRegisters.table
        let values: [(RegisterNeed, [UInt8])] = [
            (SNPRegisters.measurement, report.measurement), (SNPRegisters.hostData, report.hostData),
            (SNPRegisters.idKeyDigest, report.idKeyDigest), (SNPRegisters.authorKeyDigest, report.authorKeyDigest),
            (SNPRegisters.familyID, report.familyID), (SNPRegisters.imageID, report.imageID),
            (SNPRegisters.policy, report.policy.littleEndianBytes),
            (SNPRegisters.guestSVN, report.guestSVN.littleEndianBytes),
        ]
        do {
            let table = try RegisterTable(validating: descriptor)
            for (need, value) in values {
                descriptor.registers[try table.index(of: need, for: "the kernel backend")].initial = value
            }
        } catch {
            throw .unusable("the built-in sev-snp provider: \(error)")
        }
        // Launch values never change: no live register, so the software model's callbacks are
        // never called and the files are read-only.
        return KernelGuestSetup.Found(
            provider: try KernelGuestSetup.register(descriptor, SoftwareBackend()),
            summary: "sev-snp from a report of \(client.directory)")
    }
}
