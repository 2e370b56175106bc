import Crypto
import FoundationEssentials
import X509
import _CryptoExtras

/// What a vTPM's evidence vouches for beside the hardware report: the quote and its PCRs, and
/// the attestation key that signed it.
public struct VerifiedVTPMQuote: Sendable {
    public let quote: TPMQuote
    public let pcrs: [UInt16: [Int: [UInt8]]]
    public let attestationKey: TPMPublic.Key

    public init(quote: TPMQuote, pcrs: [UInt16: [Int: [UInt8]]], attestationKey: TPMPublic.Key) {
        self.quote = quote
        self.pcrs = pcrs
        self.attestationKey = attestationKey
    }
}

/// The checks of a Compute Engine vTPM's evidence (go-tpm-tools' `server.VerifyAttestation`
/// without the event log): the AK certificate read from NV 0x01c10000 (RSA) or 0x01c10002 (ECC)
/// chains to the CA's root through its intermediate, and its key signed the quote.
public enum GCPVTPMCheck {
    /// Checks, in order: the certificate (NV padding allowed) parses and holds an RSA or NIST
    /// P-256/P-384 key; it chains to `authority`'s root (``TPMKeyCertificateCheck``, at `time`);
    /// that key signed `quote` over the nonce and PCR values.
    public static func verify(
        akCertificate: [UInt8], authority: TPMAKAuthority, quote: TPMQuoteEvidence, at time: Date = Date()
    ) throws(EvidenceError) -> VerifiedVTPMQuote {
        let der = try TPMKeyCertificateCheck.certificate(inNVContents: akCertificate)
        let key = try TPMKeyCertificateCheck.subjectKey(of: der)
        try TPMKeyCertificateCheck.verify(
            certificate: der, intermediate: authority.intermediateCertificateDER, anchor: authority.rootCertificateDER,
            key: key, at: time)
        let (parsed, pcrs) = try quote.verify(key: key)
        return VerifiedVTPMQuote(quote: parsed, pcrs: pcrs, attestationKey: key)
    }
}

/// The checks of an SVSM vTPM's evidence (SVSM specification 58019, the vTPM service's
/// attestation; go-tpm-tools cmd/verify_svsm.go): an SNP report of the SVSM over the manifest that
/// holds the EK's public area, and a quote by an attestation key. That the AK lives in the same
/// TPM as that EK is not shown by these files: the relying party proves it with its own
/// TPM2_MakeCredential to the EK and the guest's TPM2_ActivateCredential.
public enum SVSMVTPMCheck {
    /// What the evidence vouches for: the EK of the manifest beside the quote.
    public struct Verified: Sendable {
        public let endorsementKey: TPMPublic
        public let attestationKey: TPMPublic
        public let quote: VerifiedVTPMQuote
    }

    /// Checks, in order, `report` having verified as a SEV-SNP report: VMPL is 0 (the SVSM's);
    /// REPORT_DATA is SHA-512(`nonce` ‖ `manifest`); the manifest is a TPMT_PUBLIC (the EK);
    /// `akPublic` (a TPMT_PUBLIC, or the TPM2B_PUBLIC `tpm2_readpublic -f tss` writes) is a restricted
    /// signing key fixed to its TPM; it signed `quote`.
    public static func verify(
        report: SNPReport, nonce: [UInt8], manifest: [UInt8], akPublic: [UInt8], quote: TPMQuoteEvidence
    ) throws(EvidenceError) -> Verified {
        guard report.vmpl == 0 else {
            throw .failed(.svsmBinding, reason: "VMPL is \(report.vmpl); the SVSM's reports are at VMPL 0")
        }
        guard report.reportData == SVSMServicesManifest.reportData(nonce: nonce, manifest: manifest) else {
            throw .failed(.svsmBinding, reason: "REPORT_DATA is not SHA-512(nonce ‖ manifest)")
        }
        let ek: TPMPublic
        do {
            ek = try TPMPublic(parsing: manifest)
        } catch {
            throw .failed(.svsmBinding, reason: "the manifest is not the EK's TPMT_PUBLIC: \(error)")
        }
        // `tpm2_readpublic -f tss -o` writes a TPM2B_PUBLIC: its size first. A bare TPMT_PUBLIC
        // starts with its type (0x0001 or 0x0023), never with its own length less two.
        let sized = akPublic.count >= 2 && Int(akPublic[0]) << 8 | Int(akPublic[1]) == akPublic.count - 2
        let ak = try TPMPublic(parsing: sized ? Array(akPublic.dropFirst(2)) : akPublic)
        let required = TPMPublic.restricted | TPMPublic.sign | TPMPublic.fixedTPM
        guard ak.attributes & required == required else {
            throw .failed(
                .tpmQuoteSignature,
                reason:
                    "the AK (objectAttributes 0x\(String(ak.attributes, radix: 16))) is not a restricted signing key "
                    + "fixed to its TPM")
        }
        let (parsed, pcrs) = try quote.verify(key: ak.key)
        return Verified(
            endorsementKey: ek, attestationKey: ak,
            quote: VerifiedVTPMQuote(quote: parsed, pcrs: pcrs, attestationKey: ak.key))
    }
}

extension TPMKeyCertificateCheck {
    /// The subject public key of `certificate` (DER) as a TPM key: RSA, or ECC on NIST P-256/P-384.
    public static func subjectKey(of certificate: [UInt8]) throws(EvidenceError) -> TPMPublic.Key {
        let parsed: Certificate
        do {
            parsed = try Certificate(derEncoded: certificate)
        } catch {
            throw .failed(.akCertificate, reason: "the certificate does not parse: \(error)")
        }
        if let rsa = _RSA.Signing.PublicKey(parsed.publicKey), let parts = try? rsa.getKeyPrimitives() {
            let exponent = [UInt8](parts.publicExponent).drop { $0 == 0 }
            guard exponent.count <= 4 else {
                throw .failed(.akCertificate, reason: "the RSA exponent is \(exponent.count) bytes (4 at most)")
            }
            return .rsa(
                modulus: Array([UInt8](parts.modulus).drop { $0 == 0 }),
                exponent: exponent.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        }
        let point: (UInt16, Data)
        if let key = P256.Signing.PublicKey(parsed.publicKey) {
            point = (TPMAlgorithmID.nistP256, key.rawRepresentation)
        } else if let key = P384.Signing.PublicKey(parsed.publicKey) {
            point = (TPMAlgorithmID.nistP384, key.rawRepresentation)
        } else {
            throw .failed(.akCertificate, reason: "the certificate's key is neither RSA nor ECC on P-256 or P-384")
        }
        let raw = [UInt8](point.1), half = raw.count / 2
        return .ecc(curve: point.0, x: Array(raw[0..<half]), y: Array(raw[half...]))
    }
}
