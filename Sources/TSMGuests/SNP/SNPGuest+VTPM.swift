import TSMBytes
import TSMEvidence
import TSMGuest
import TSMTPM

/// SEV-SNP's vTPMs (`--vtpm`): Azure's over the guest's own report path, Coconut-SVSM's bound
/// into the SVSM manifest, GCE's and the plain one as on every guest.
extension SNPGuest {
    /// `--vtpm svsm`: the tpm_svsm driver (the SVSM vTPM protocol, SVSM spec 58019 §8),
    /// 93b7c6b3ce91 "tpm: Add SNP SVSM vTPM driver" (Stefano Garzarella), through tip's x86/sev
    /// branch (merged into tip/master 22 April 2025) for 6.16.
    public static let svsmVTPM = KernelFeature(KernelRelease(6, 16), commit: "93b7c6b3ce91", "SVSM vTPM (tpm_svsm)")

    /// The SVSM vTPM protocol's service GUID, c476f1eb-0123-45a5-9641-b4e7dde5bfe3.
    static let vtpmServiceGUID = GUID(bytes: Hex.decode("c476f1eb012345a59641b4e7dde5bfe3") ?? [])

    /// The vTPM of `settings` started, nil without `--vtpm`. Azure's personality makes each HCL
    /// report's SNP report through `hardware`, the guest's own report path: VMPL 0, REPORTED_TCB
    /// equal to COMMITTED_TCB (as Azure's verifiers require; `--committed-tcb` or the platform's),
    /// REPORT_DATA the one the paravisor asks for.
    static func startVTPM(
        _ settings: Settings, hardware: SNPReportProvider, context: GuestContext<Settings>
    ) throws(AssemblyError) -> RunningVTPM? {
        guard let kind = settings.vtpm else { return nil }
        var personality = VTPMFaces.personality(kind)
        if kind == .azure {
            var paravisor = hardware
            paravisor.committedTCB = settings.committedTCB ?? hardware.authority.snpPlatform.tcb
            paravisor.reportedTCB = paravisor.committedTCB
            let reports = paravisor
            personality = AzurePersonality(hardwareReport: { reportData in
                try reports.signedReport(reportData: reportData, vmpl: 0).outblob
            })
        }
        return try VTPMFaces.start(kind, personality: personality, context: context)
    }

    /// The SVSM's services manifest (nil when the guest runs without one): the mock's, whose vTPM
    /// entry is the running vTPM's EK public area (TPMT_PUBLIC, as Coconut-SVSM's vTPM service
    /// reports it) when there is one. A vTPM whose EK cannot be read refuses the mount.
    static func svsmManifest(
        _ settings: Settings, seed: String, vtpm: RunningVTPM?
    ) throws(AssemblyError) -> SVSMServicesManifest? {
        guard settings.svsm else { return nil }
        var manifest = SVSMServicesManifest.mock(seed: seed)
        guard let vtpm else { return manifest }
        do {
            let ek = try vtpm.tpm.endorsementKeyPublic()
            for index in manifest.services.indices where manifest.services[index].guid == vtpmServiceGUID {
                manifest.services[index].data = ek
            }
        } catch {
            throw .vtpm("cannot read the vTPM's EK for the SVSM manifest: \(error)")
        }
        return manifest
    }
}
