import Crypto
import SystemPackage
import TSMBackends
import TSMEvidence
import TSMModel

/// The SEV-SNP guest driver's configfs-tsm face (`sev_guest`): an ATTESTATION_REPORT of the
/// `sev-snp` provider's launch values, REPORT_DATA = the inblob, VMPL = `privlevel`, signed by
/// the mock VCEK; the auxblob is the certificate table (VCEK, ASK, ARK).
public struct SNPReportProvider: ReportProvider {
    public let name = "sev_guest"
    /// The VMPCK the driver uses (its `vmpck_id`): requests below it are refused.
    public let privlevelFloor: UInt32
    let registers: SNPRegisters
    let authority: SNPAuthority
    /// The services of the SVSM the guest runs under, or nil when it runs at VMPL 0 without one.
    let svsm: SVSMServicesManifest?
    /// 6.11 and later: `sev_report_attr_visible`; before, the fixed `tsm_report_extra_type`.
    let visibilityCallbacks: Bool
    let log: EvidenceLog
    /// REPORTED_TCB, COMMITTED_TCB and LAUNCH_TCB where options set them; the platform's otherwise.
    public var reportedTCB, committedTCB, launchTCB: SNPTCB?
    /// The key that signs (`--signing-key`): the VCEK unless set.
    public var signingKey = SNPSigningKey.vcek
    /// AUTHOR_KEY_EN (SIGNER_INFO bit 0): the ID block came with an author key (`--author-key`).
    public var authorKeyEnabled = false

    /// - Parameters:
    ///   - visibilityCallbacks: false for a release before 6.11, which shows the fixed extra set
    ///     (and has no SVSM attributes; such a release cannot run under an SVSM).
    ///   - log: where a report that cannot be signed is logged with its cause.
    public init(
        registers: SNPRegisters, authority: SNPAuthority, privlevelFloor: UInt32 = 0,
        svsm: SVSMServicesManifest? = nil, visibilityCallbacks: Bool = true, log: @escaping EvidenceLog
    ) {
        self.registers = registers
        self.authority = authority
        self.privlevelFloor = privlevelFloor
        self.svsm = svsm
        self.visibilityCallbacks = visibilityCallbacks
        self.log = log
    }

    /// 6.7-6.10: `tsm_report_extra_type`, the 7 attributes of every provider that wants more than
    /// the default four. 6.11 on: the service attributes and manifestblob show only under an
    /// SVSM (VMPL > 0).
    public func isVisible(_ attribute: ReportAttribute) -> Bool {
        guard visibilityCallbacks else {
            return [.generation, .provider, .inblob, .outblob, .auxblob, .privlevel, .privlevelFloor].contains(
                attribute)
        }
        switch attribute {
        case .serviceProvider, .serviceGuid, .serviceManifestVersion, .manifestblob: return svsm != nil
        default: return attribute != .manifestblob
        }
    }

    /// EINVAL unless the inblob is exactly 64 bytes, when a service provider other than `svsm`
    /// was named, or a service GUID the SVSM does not offer; EIO if the report cannot be signed.
    public func makeReport(_ request: ReportRequest) throws(Errno) -> ReportBlobs {
        guard request.inblob.count == 64 else { throw .invalidArgument }
        if let service = request.serviceProvider {
            guard service == "svsm", let svsm else { throw .invalidArgument }
            return try serviceReport(request, svsm: svsm)
        }
        return try signedReport(reportData: request.inblob, vmpl: request.privlevel)
    }

    /// The SVSM's attestation of its services: a VMPL 0 report whose REPORT_DATA is
    /// SHA-512(nonce ‖ manifest). A null `service_guid` asks for every service
    /// (SVSM_ATTEST_SERVICES: the GUID table); a service's GUID for that one
    /// (SVSM_ATTEST_SINGLE_SERVICE), whose manifest is the service's own, bare, as Coconut-SVSM
    /// returns it (the vTPM's: its EK's TPMT_PUBLIC). EINVAL for a GUID the SVSM does not offer.
    private func serviceReport(_ request: ReportRequest, svsm: SVSMServicesManifest) throws(Errno) -> ReportBlobs {
        let manifest: [UInt8]
        if request.serviceGuid.contains(where: { $0 != 0 }) {
            guard let service = svsm.services.first(where: { $0.guid.bytes == request.serviceGuid }) else {
                throw .invalidArgument
            }
            manifest = service.data
        } else {
            manifest = svsm.encoded()
        }
        var blobs = try signedReport(
            reportData: SVSMServicesManifest.reportData(nonce: request.inblob, manifest: manifest), vmpl: 0)
        blobs.manifestblob = manifest
        return blobs
    }

    /// The report for `reportData` at `vmpl` and the certificate table: what configfs-tsm and
    /// `/dev/sev-guest` both serve. EIO (logged) if it cannot be signed.
    func signedReport(reportData: [UInt8], vmpl: UInt32) throws(Errno) -> ReportBlobs {
        let values = registers.values()
        do {
            var report = try SNPReport(
                reportData: reportData, vmpl: vmpl, measurement: values.measurement, hostData: values.hostData,
                platform: authority.snpPlatform, policy: values.policy, guestSVN: values.guestSVN,
                familyID: values.familyID, imageID: values.imageID,
                idKeyDigest: values.idKeyDigest, authorKeyDigest: values.authorKeyDigest,
                reportID: Array(SHA256.hash(data: Array("tsmfs report id \(authority.seed)".utf8))))
            if let reportedTCB { report.reportedTCB = reportedTCB }
            if let committedTCB { report.committedTCB = committedTCB }
            if let launchTCB { report.launchTCB = launchTCB }
            if authorKeyEnabled { report.signerInfo |= 1 }  // AUTHOR_KEY_EN
            let evidence = try authority.sign(report, key: signingKey)
            return ReportBlobs(outblob: evidence.report, auxblob: evidence.auxblob)
        } catch {
            log("\(name): cannot make a report: \(error)")
            throw .ioError
        }
    }
}
