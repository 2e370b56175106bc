import SwiftASN1

/// The seed every mock authority derives its keys, serial numbers and platform values from when
/// none is given (`--seed`).
public enum MockSeed {
    public static let `default` = "tsmfs"
}

/// Certificates as the PEM text verifiers read: one CERTIFICATE document with a trailing newline.
enum CertificatePEM {
    static func pem(_ der: [UInt8]) -> String {
        PEMDocument(type: "CERTIFICATE", derBytes: der).pemString + "\n"
    }

    /// Leaf, intermediate and root as concatenated PEM, in that order (DCAP certification data
    /// type 5, snpguest's chain files).
    static func chain(_ leaf: [UInt8], _ intermediate: [UInt8], _ root: [UInt8]) -> String {
        pem(leaf) + pem(intermediate) + pem(root)
    }
}
