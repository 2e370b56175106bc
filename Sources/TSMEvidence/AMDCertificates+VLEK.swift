import SwiftASN1

/// The VLEK hierarchy (AMD "Versioned Loaded Endorsement Key (VLEK) Certificate Definition"):
/// ARK -> ASVK (CN SEV-VLEK-Milan, RSA-4096, shaped as the ASK) -> VLEK (CN SEV-VLEK, ECDSA
/// P-384), every signature RSASSA-PSS SHA-384 as in the VCEK chain. A VLEK is issued to a cloud
/// provider, not a chip: it carries the CSP_ID extension and no hwID.
extension AMDCertificates {
    /// The CSP_ID the mock's VLEKs name: AMD writes the cloud provider's name there.
    static let mockCSPID = "tsmfs-mock-csp"

    /// The VLEK at `tcb`: structVersion, productName, the SPLs, then CSP_ID (IA5String), issued
    /// by the ASVK, signed as VCEKs are (PSS without a trailerField).
    static func vlek(seed: String, spki: [UInt8], tcb: SNPTCB, asvkKey: RSAPSSSigner) throws(EvidenceError)
        -> [UInt8]
    {
        let cspID = RawDER(bytes: constant { try $0.serialize(ASN1IA5String(mockCSPID)) })
        let extensions = try tcbExtensions(tcb) + [`extension`(VCEKExtension.cspID, value: cspID)]
        return try issue(
            serial: serial(seed: seed, role: "vlek \(tcb.rawValue)"), algorithm: pssWithoutTrailer, issuer: asvkName,
            subject: vlekName, spki: spki, extensions: extensions, signer: asvkKey)
    }
}
