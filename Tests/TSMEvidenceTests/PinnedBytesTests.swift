import Crypto
import Foundation
import TSMBytes
@testable import TSMEvidence
import Testing

/// What third parties verify byte for byte stays byte-identical across refactors: the SHA-256 of
/// the default seed's certificates (AMD's RSASSA-PSS chain, the TDX PCK chain) and of the TDX
/// collateral JSON, which is signed over its exact text. The values were taken before the DER
/// and JSON writers were replaced by swift-asn1 and TSMBytes.
@Suite struct PinnedBytesTests {
    static func digest(_ bytes: [UInt8]) -> String { Hex.encode(Array(SHA256.hash(data: bytes))) }

    @Test func amdChainOfTheDefaultSeed() throws {
        let authority = try Authorities.snp.get()
        #expect(
            Self.digest(authority.rootCertificateDER)
                == "362664590d71ca5eed48816710c2070352e5c9a43c0e45c99f49a706d9c125a9")
        #expect(
            Self.digest(authority.intermediateCertificateDER)
                == "71530147a653181e29478942c58c71937412b080f06182ddbdaaeca83beb0b2a")
        #expect(
            Self.digest(authority.leafCertificateDER)
                == "311ceae0a138b5c8be1fafa93ca71e01e7c85f3b8a3cd2f4f8c8e4f9f8825985")
        #expect(Self.digest(authority.snpAuxblob) == "e56415e2cdf76f6c111f46898be80fd3489e30cd8a0b9ee714015955bb965fcb")
    }

    @Test func tdxChainOfTheDefaultSeed() throws {
        let authority = try Authorities.tdx.get()
        #expect(
            Self.digest(authority.rootCertificateDER)
                == "1822cb42426750b961482706ec22ed61e5f6e9cca6f39a94d49a14df6da31397")
        #expect(
            Self.digest(authority.intermediateCertificateDER)
                == "ff10ba53541aa5e3831f8aa876b04ef4a0ae738d467801f062344138697cbe77")
        #expect(
            Self.digest(authority.leafCertificateDER)
                == "3b5fb46dc0d6abb6f3d2de5b33e3b1136bd1173d5926bef041848a202ba20b12")
    }

    @Test func tdxCollateralText() throws {
        let collateral = try Authorities.tdx.get().tdxCollateral(at: Date(timeIntervalSince1970: 1_767_225_600))
        #expect(
            Self.digest(Array(collateral.json.utf8))
                == "db51e76b72f83c8125afb59f1d68ac3625d93a311b06c566621e200da1d91d7c")
        #expect(
            Self.digest(Array(collateral.tcbInfoResponse.utf8))
                == "d96ef0ea357c43aa8e8cae31071a5fb1ba3b6b3131caa65d1231c5d9945dfad5")
    }
}
