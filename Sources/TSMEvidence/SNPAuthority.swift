import Crypto

/// AMD's Milan hierarchy for SEV-SNP as AMD lays it out (`AMDCertificates`): ARK (RSA-4096,
/// self-signed) -> ASK (RSA-4096) -> VCEK (ECDSA P-384), every certificate signed with
/// RSASSA-PSS SHA-384, under AMD's names (ARK-Milan, SEV-Milan, SEV-VCEK); the VCEK carries
/// AMD's structVersion, productName, SPL and hwID extensions for `snpPlatform`. The ARK and ASK
/// keys are fixed published mock keys (`MockRSAKeys`), the VCEK key derives from the seed.
///
/// The same seed always gives byte-identical certificates (PSS salts derived from the message,
/// fixed dates, seed-derived serial numbers).
public struct SNPAuthority: Sendable {
    /// The string every key, serial number and platform value derives from.
    public let seed: String
    /// The ARK, DER.
    public let rootCertificateDER: [UInt8]
    /// The ASK, DER.
    public let intermediateCertificateDER: [UInt8]
    /// The VCEK, DER.
    public let leafCertificateDER: [UInt8]
    /// The chip and TCB values a report from this authority carries (the VCEK names them).
    public let snpPlatform: SNPPlatform
    let leafKey: MockKey
    /// The ASK's signer, which issues VCEKs for other TCBs (the KDS face).
    let askSigner: RSAPSSSigner
    /// The certificate table (VCEK, ASK, ARK), the same for every report.
    public let snpAuxblob: [UInt8]
    /// The ASVK (AMD SEV VLEK signing key, CN SEV-VLEK-Milan), DER: the VLEK's issuer, under the ARK.
    public let asvkCertificateDER: [UInt8]
    /// The VLEK at the platform's TCB, DER.
    public let vlekCertificateDER: [UInt8]
    let vlekKey: MockKey
    let asvkSigner: RSAPSSSigner
    /// The ARK's signer, which signs the KDS CRLs.
    let arkSigner: RSAPSSSigner

    /// Derives the VCEK key and issues the chain from `seed`. Throws only if a certificate
    /// cannot be built (`EvidenceError.certificate`).
    public init(seed: String = MockSeed.default) throws(EvidenceError) {
        self.seed = seed
        snpPlatform = SNPPlatform.mock(seed: seed)
        leafKey = MockKey(seed: seed, label: "sev-snp vcek", curve: .p384)
        arkSigner = try RSAPSSSigner(pem: MockRSAKeys.arkPEM, role: "ARK")
        askSigner = try RSAPSSSigner(pem: MockRSAKeys.askPEM, role: "ASK")
        rootCertificateDER = try AMDCertificates.ark(seed: seed, key: arkSigner)
        intermediateCertificateDER = try AMDCertificates.ask(seed: seed, key: askSigner, arkKey: arkSigner)
        leafCertificateDER = try AMDCertificates.vcek(
            seed: seed, spki: try leafKey.subjectPublicKeyInfo,
            chipID: snpPlatform.chipID, tcb: snpPlatform.tcb, askKey: askSigner)
        snpAuxblob = try SNPCertificateTable(entries: [
            (GUID.vcek, leafCertificateDER), (GUID.ask, intermediateCertificateDER), (GUID.ark, rootCertificateDER),
        ]).encoded()
        vlekKey = MockKey(seed: seed, label: "sev-snp vlek", curve: .p384)
        asvkSigner = try RSAPSSSigner(pem: MockRSAKeys.asvkPEM, role: "ASVK")
        asvkCertificateDER = try AMDCertificates.ask(seed: seed, key: asvkSigner, arkKey: arkSigner, vlek: true)
        vlekCertificateDER = try AMDCertificates.vlek(
            seed: seed, spki: try vlekKey.subjectPublicKeyInfo, tcb: snpPlatform.tcb, asvkKey: asvkSigner)
    }

    /// The VLEK at `tcb` (AMD's KDS issues one per cloud provider and TCB; the mock keeps one key).
    public func vlekCertificate(tcb: SNPTCB) throws(EvidenceError) -> [UInt8] {
        if tcb == snpPlatform.tcb { return vlekCertificateDER }
        return try AMDCertificates.vlek(
            seed: seed, spki: try vlekKey.subjectPublicKeyInfo, tcb: tcb, asvkKey: asvkSigner)
    }

    /// The ASVK as PEM.
    public var asvkCertificatePEM: String { CertificatePEM.pem(asvkCertificateDER) }
    /// The VLEK (at the platform's TCB) as PEM.
    public var vlekCertificatePEM: String { CertificatePEM.pem(vlekCertificateDER) }

    /// A VCEK of this authority's chip at another TCB, as AMD's KDS issues one per chip and TCB
    /// (the VCEK key derives from the chip and TCB on real parts; the mock keeps one key).
    public func vcekCertificate(tcb: SNPTCB) throws(EvidenceError) -> [UInt8] {
        if tcb == snpPlatform.tcb { return leafCertificateDER }
        return try AMDCertificates.vcek(
            seed: seed, spki: try leafKey.subjectPublicKeyInfo, chipID: snpPlatform.chipID,
            tcb: tcb, askKey: askSigner)
    }

    /// The ARK as PEM: the trust anchor a verifier is given.
    public var rootCertificatePEM: String { CertificatePEM.pem(rootCertificateDER) }
    /// The ASK as PEM.
    public var intermediateCertificatePEM: String { CertificatePEM.pem(intermediateCertificateDER) }
    /// The VCEK as PEM.
    public var leafCertificatePEM: String { CertificatePEM.pem(leafCertificateDER) }
    /// VCEK, ASK and ARK as concatenated PEM.
    public var certificateChainPEM: String {
        CertificatePEM.chain(leafCertificateDER, intermediateCertificateDER, rootCertificateDER)
    }

    /// `report` signed by the VCEK (SIGNATURE_ALGO 1, SIGNING_KEY 0; CHIP_ID zeroed when
    /// MASK_CHIP_KEY is set), with the certificate table: the `sev_guest` outblob and auxblob.
    /// The table's VCEK is the one for the report's REPORTED_TCB (``vcekCertificate(tcb:)``).
    ///
    /// With `key` `.vlek`: signed by the VLEK, SIGNING_KEY 1, CHIP_ID zero (the platform's
    /// MASK_CHIP_ID, as a VLEK certifies no chip), and the table VLEK, ASVK (in the ASK entry:
    /// the GHCB specification defines no ASVK GUID), ARK.
    public func sign(_ report: SNPReport, key: SNPSigningKey = .vcek) throws(EvidenceError) -> SNPEvidence {
        let auxblob: [UInt8]
        switch key {
        case .vcek where report.reportedTCB == snpPlatform.tcb:
            auxblob = snpAuxblob
        case .vcek:
            auxblob = try SNPCertificateTable(entries: [
                (GUID.vcek, try vcekCertificate(tcb: report.reportedTCB)), (GUID.ask, intermediateCertificateDER),
                (GUID.ark, rootCertificateDER),
            ]).encoded()
        case .vlek:
            auxblob = try SNPCertificateTable(entries: [
                (GUID.vlek, try vlekCertificate(tcb: report.reportedTCB)), (GUID.ask, asvkCertificateDER),
                (GUID.ark, rootCertificateDER),
            ]).encoded()
        }
        var report = report
        report.signatureAlgorithm = SNPReport.ecdsaP384SHA384
        report.signerInfo = report.signerInfo & ~(UInt32(7) << 2) | key.field << 2
        if report.maskChipKey || key == .vlek { report.chipID = [UInt8](repeating: 0, count: 64) }
        let signer = key == .vcek ? leafKey : vlekKey
        report.signature = try SNPReport.signatureField(rawSignature: signer.sign(try report.signedBytes()))
        return SNPEvidence(report: try report.encoded(), auxblob: auxblob)
    }
}

/// The key that signs a SEV-SNP report: ATTESTATION_REPORT SIGNER_INFO bits 4:2 (SIGNING_KEY),
/// 0 the VCEK (per chip), 1 the VLEK (per cloud provider, loaded by the hypervisor).
public enum SNPSigningKey: String, Sendable, CaseIterable {
    case vcek, vlek
    /// SIGNING_KEY's value.
    public var field: UInt32 { self == .vcek ? 0 : 1 }
}
