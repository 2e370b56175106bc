import _CryptoExtras
import Crypto
import FoundationEssentials
import SwiftASN1

/// The SEV-SNP endorsement chain as a verifier of AMD's checks it: VCEK (or VLEK) <- ASK <- ARK,
/// every signature RSASSA-PSS SHA-384 / MGF1-SHA-384 / salt 48 by an RSA issuer key, the ARK
/// self-signed and byte-identical to the trust anchor; then the VCEK's AMD extensions against
/// the report.
struct AMDChain {
    let leaf: AMDCertificate
    let ask: AMDCertificate
    let ark: AMDCertificate
    let leafRole: String
    /// The intermediate's role: the ASVK issues VLEKs, the ASK VCEKs.
    var askRole: String { leafRole == "VLEK" ? "ASVK" : "ASK" }

    /// Checks, in order: the ARK is the anchor; each certificate is named by and signed (PSS) by
    /// its issuer, the ARK by itself; ARK and ASK are CAs; all are valid at `time`.
    func validate(anchorDER: [UInt8], at time: Date) throws(EvidenceError) {
        guard ark.der == anchorDER else {
            throw .failed(
                .vcekChain,
                reason:
                    "the ARK is not the trust anchor (ARK SHA-256 \(Self.pin(ark.der)), anchor \(Self.pin(anchorDER)))")
        }
        for (child, childRole, parent, parentRole) in [
            (ark, "ARK", ark, "ARK"), (ask, askRole, ark, "ARK"), (leaf, leafRole, ask, askRole),
        ] {
            guard child.issuer == parent.subject else {
                throw .failed(.vcekChain, reason: "the \(childRole)'s issuer is not the \(parentRole)'s subject")
            }
            guard child.signatureAlgorithm == child.tbsSignatureAlgorithm,
                [AMDCertificates.pssWithTrailer, AMDCertificates.pssWithoutTrailer].contains(child.signatureAlgorithm)
            else {
                throw .failed(
                    .vcekChain, reason: "the \(childRole) is not signed with RSASSA-PSS SHA-384, MGF1-SHA-384, salt 48")
            }
            guard let key = try? _RSA.Signing.PublicKey(derRepresentation: parent.subjectPublicKeyInfo) else {
                throw .failed(.vcekChain, reason: "the \(parentRole)'s key is not an RSA key of 2048 bits or more")
            }
            guard RSAPSSSigner.isValid(signature: child.signature, of: child.tbs, by: key) else {
                throw .failed(.vcekChain, reason: "the \(childRole) certificate is not signed by the \(parentRole)")
            }
        }
        for (certificate, role) in [(ark, "ARK"), (ask, askRole)] where !certificate.isCertificateAuthority {
            throw .failed(.vcekChain, reason: "the \(role) certificate is not a CA")
        }
        let now = Int64(time.timeIntervalSince1970)
        for (certificate, role) in [(leaf, leafRole), (ask, askRole), (ark, "ARK")] {
            guard certificate.notBefore <= now else {
                throw .failed(
                    .vcekChain,
                    reason:
                        """
                        the \(role) certificate is not valid before \
                        \(Date(timeIntervalSince1970: Double(certificate.notBefore)))
                        """
                )
            }
            guard now <= certificate.notAfter else {
                throw .failed(
                    .vcekChain,
                    reason:
                        """
                        the \(role) certificate expired at \
                        \(Date(timeIntervalSince1970: Double(certificate.notAfter)))
                        """
                )
            }
        }
    }

    /// The leaf's P-384 key.
    func leafKey() throws(EvidenceError) -> P384.Signing.PublicKey {
        guard let key = try? P384.Signing.PublicKey(derRepresentation: leaf.subjectPublicKeyInfo) else {
            throw .failed(.reportSignature, reason: "the \(leafRole) key is not P-384")
        }
        return key
    }

    /// The VCEK's hwID is CHIP_ID (unless MASK_CHIP_KEY) and its boot loader, TEE, SNP and
    /// microcode SPLs are REPORTED_TCB's. hwID is AMD's raw 64 bytes (a DER OCTET STRING of 64
    /// is read too); the SPLs are DER INTEGERs 0-255 and must be present. A VLEK has no hwID
    /// and names its cloud provider in CSP_ID (as go-sev-guest checks).
    func checkBinding(_ report: SNPReport) throws(EvidenceError) {
        if leafRole == "VLEK" {
            guard leaf.extensionValue(VCEKExtension.cspID) != nil else {
                throw .failed(.vcekBinding, reason: "the VLEK has no CSP_ID extension")
            }
            guard leaf.extensionValue(VCEKExtension.hwID) == nil else {
                throw .failed(.vcekBinding, reason: "the VLEK has a hwID extension, which only a VCEK carries")
            }
        }
        if leafRole == "VCEK", !report.maskChipKey {
            guard let value = leaf.extensionValue(VCEKExtension.hwID) else {
                throw .failed(.vcekBinding, reason: "the VCEK has no hwID extension")
            }
            let hwID = value.count == 66 && value[0] == 0x04 && value[1] == 0x40 ? Array(value.dropFirst(2)) : value
            guard hwID == report.chipID else {
                throw .failed(.vcekBinding, reason: "CHIP_ID is not the VCEK's hwID")
            }
        }
        let spls: [(ASN1ObjectIdentifier, UInt8, String)] = [
            (VCEKExtension.bootloaderSPL, report.reportedTCB.bootloader, "boot loader"),
            (VCEKExtension.teeSPL, report.reportedTCB.tee, "TEE"),
            (VCEKExtension.snpSPL, report.reportedTCB.snp, "SNP"),
            (VCEKExtension.microcodeSPL, report.reportedTCB.microcode, "microcode"),
        ]
        for (oid, reported, name) in spls {
            guard let value = leaf.extensionValue(oid) else {
                throw .failed(.vcekBinding, reason: "the \(leafRole) has no \(name) SPL extension")
            }
            guard let spl = try? Int(derEncoded: value), spl == Int(reported) else {
                throw .failed(.vcekBinding, reason: "REPORTED_TCB's \(name) SPL \(reported) is not the \(leafRole)'s")
            }
        }
    }

    /// A certificate's pin: the lowercase hex SHA-256 of its DER.
    static func pin(_ der: [UInt8]) -> String {
        SHA256.hash(data: der).map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
