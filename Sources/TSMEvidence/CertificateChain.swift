import FoundationEssentials
import SwiftASN1
import X509

/// A three-certificate chain as attestation evidence carries it (DCAP: PCK leaf, platform CA,
/// root; SEV-SNP: VCEK, ASK, ARK), each with the DER it was read from.
struct CertificateChain {
    struct Member {
        let role: String
        let der: [UInt8]
        let certificate: Certificate
    }

    let check: VerificationCheck
    let leaf: Member
    let intermediate: Member
    let root: Member

    /// Reads one DER certificate, failing `check` with the role named.
    static func member(_ role: String, der: [UInt8], check: VerificationCheck) throws(EvidenceError) -> Member {
        do {
            return Member(role: role, der: der, certificate: try Certificate(derEncoded: der))
        } catch {
            throw .failed(check, reason: "the \(role) certificate does not parse: \(error)")
        }
    }

    /// Reads the PEM certificates of DCAP certification data type 5: exactly leaf, intermediate,
    /// root. Trailing NULs (some quote generators add one) are ignored. A chain over
    /// ``TDXQuote/maxPCKChainSize`` bytes is refused before its PEM is parsed.
    static func pckChain(pem: [UInt8]) throws(EvidenceError) -> CertificateChain {
        guard pem.count <= TDXQuote.maxPCKChainSize else {
            throw .failed(
                .pckChain,
                reason: "the chain has \(pem.count) bytes, more than the limit of \(TDXQuote.maxPCKChainSize)")
        }
        var bytes = pem
        while bytes.last == 0 { bytes.removeLast() }
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw .failed(.pckChain, reason: "the certification data is not PEM: \(error)")
        }
        let certificates = documents.filter { $0.discriminator == "CERTIFICATE" }
        guard certificates.count == 3, documents.count == 3 else {
            throw .failed(
                .pckChain,
                reason:
                    """
                    \(documents.count) PEM documents (\(certificates.count) certificates), expected 3 \
                    certificates: PCK leaf, intermediate, root
                    """
            )
        }
        return CertificateChain(
            check: .pckChain,
            leaf: try member("PCK leaf", der: certificates[0].derBytes, check: .pckChain),
            intermediate: try member("intermediate", der: certificates[1].derBytes, check: .pckChain),
            root: try member("root", der: certificates[2].derBytes, check: .pckChain))
    }

    /// Checks, in order: the root is the trust anchor (same DER); the intermediate is named by and
    /// signed by the root, which is a CA; the leaf is named by and signed by the intermediate,
    /// which is a CA; every certificate is valid at `time`.
    func validate(anchorDER: [UInt8], at time: Date) throws(EvidenceError) {
        guard root.der == anchorDER else {
            throw .failed(
                check, reason: "the \(root.role) certificate (\(root.certificate.subject)) is not the trust anchor")
        }
        for (child, parent) in [(intermediate, root), (leaf, intermediate)] {
            guard child.certificate.issuer == parent.certificate.subject else {
                throw .failed(
                    check,
                    reason:
                        """
                        the \(child.role)'s issuer (\(child.certificate.issuer)) is not the \(parent.role)'s \
                        subject (\(parent.certificate.subject))
                        """
                )
            }
            let isCA: Bool
            do {
                if case .isCertificateAuthority = try parent.certificate.extensions.basicConstraints {
                    isCA = true
                } else {
                    isCA = false
                }
            } catch {
                throw .failed(check, reason: "the \(parent.role)'s basic constraints do not parse: \(error)")
            }
            guard isCA else {
                throw .failed(check, reason: "the \(parent.role) certificate is not a CA")
            }
            guard parent.certificate.publicKey.isValidSignature(child.certificate.signature, for: child.certificate)
            else {
                throw .failed(check, reason: "the \(child.role) certificate is not signed by the \(parent.role)")
            }
        }
        for member in [leaf, intermediate, root] {
            guard member.certificate.notValidBefore <= time else {
                throw .failed(
                    check,
                    reason: "the \(member.role) certificate is not valid before \(member.certificate.notValidBefore)")
            }
            guard time <= member.certificate.notValidAfter else {
                throw .failed(
                    check, reason: "the \(member.role) certificate expired at \(member.certificate.notValidAfter)")
            }
        }
    }
}
