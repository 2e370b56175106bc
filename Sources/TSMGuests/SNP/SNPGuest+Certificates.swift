import TSMEvidence
import TSMGuest

/// The SEV-SNP guest's trust anchor and the certificate files `tsmfs certs` writes.
extension SNPGuest {
    public static func trustAnchorPEM(seed: String) throws(EvidenceError) -> String {
        try SNPAuthority(seed: seed).rootCertificatePEM
    }

    /// The names and layout `snpguest verify certs DIR` and `snpguest verify attestation DIR
    /// report.bin` read.
    public static func certificates(seed: String) throws(EvidenceError) -> [CertificateFile] {
        let authority = try SNPAuthority(seed: seed)
        return [
            CertificateFile("ark.pem", authority.rootCertificatePEM),
            CertificateFile("ask.pem", authority.intermediateCertificatePEM),
            CertificateFile("vcek.pem", authority.leafCertificatePEM),
        ]
    }

    public static let certificatesSummary: String? = """
        --guest sev-snp writes ark.pem, ask.pem and vcek.pem (with --signing-key vlek: ark.pem, asvk.pem and \
        vlek.pem), the names and layout `snpguest verify certs DIR` and `snpguest verify attestation DIR \
        report.bin` read.
        """

    /// With `--signing-key vlek`: the VLEK chain, ark.pem, asvk.pem and vlek.pem (snpguest's names
    /// for a VLEK-signed report's certificates).
    public static func certificates(
        seed: String, options: GuestOptionValues
    ) throws(EvidenceError) -> [CertificateFile] {
        guard options["--signing-key"] == SNPSigningKey.vlek.rawValue else { return try certificates(seed: seed) }
        let authority = try SNPAuthority(seed: seed)
        return [
            CertificateFile("ark.pem", authority.rootCertificatePEM),
            CertificateFile("asvk.pem", authority.asvkCertificatePEM),
            CertificateFile("vlek.pem", authority.vlekCertificatePEM),
        ]
    }
}
