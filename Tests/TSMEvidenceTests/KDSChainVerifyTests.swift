import TSMBytes
@testable import TSMEvidence
import Testing

/// `verifySNPReport(_:vcek:certificateChainPEM:)`: the VCEK and cert_chain of KDS instead of a
/// certificate table, with the table entry's checks.
@Suite struct KDSChainVerifyTests {
    let authority: SNPAuthority
    let kds: MockKDS
    let verifier: EvidenceVerifier

    init() throws {
        authority = try Authorities.snp.get()
        kds = MockKDS(authority: authority)
        verifier = EvidenceVerifier(trustAnchorDER: authority.rootCertificateDER)
    }

    func report(key: SNPSigningKey = .vcek) throws -> [UInt8] {
        try authority.sign(
            SNPReport(
                reportData: [UInt8](repeating: 7, count: 64), vmpl: 0, measurement: [UInt8](repeating: 0, count: 48),
                hostData: [UInt8](repeating: 0, count: 32), platform: authority.snpPlatform),
            key: key
        ).report
    }

    var chain: String { String(decoding: kds.get("/vcek/v1/Milan/cert_chain").body, as: UTF8.self) }

    @Test func kdsFilesVerifyAsTheTableDoes() throws {
        let bytes = try report()
        let fromKDS = try verifier.verifySNPReport(bytes, vcek: kds.get(kds.vcekPath).body, certificateChainPEM: chain)
        #expect(fromKDS == (try verifier.verifySNPReport(bytes, auxblob: authority.snpAuxblob)))
    }

    @Test func wrongChainsAreRefusedAsTheVCEKChain() throws {
        let bytes = try report(), vcek = kds.get(kds.vcekPath).body
        let ask = authority.intermediateCertificatePEM, ark = authority.rootCertificatePEM
        for (pem, reason) in [
            (ark, "has 1 certificates"), (ark + ask, "the ARK is not the trust anchor"),
            ("not PEM", "has 0 certificates"), (ask + ark + ark, "has 3 certificates"),
        ] {
            #expect {
                try verifier.verifySNPReport(bytes, vcek: vcek, certificateChainPEM: pem)
            } throws: { error in
                let error = error as? EvidenceError
                return error?.check == .vcekChain && error?.description.contains(reason) == true
            }
        }
        // The VCEK is the leaf: the ASK in its place is refused.
        #expect(throws: EvidenceError.self) {
            try verifier.verifySNPReport(bytes, vcek: authority.intermediateCertificateDER, certificateChainPEM: chain)
        }
    }

    @Test func aVLEKSignedReportIsRefused() throws {
        #expect {
            try verifier.verifySNPReport(
                try report(key: .vlek), vcek: kds.get(kds.vcekPath).body, certificateChainPEM: chain)
        } throws: { error in
            (error as? EvidenceError)?.description.contains("SIGNING_KEY is 1") == true
        }
    }
}
