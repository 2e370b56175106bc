import FoundationEssentials
import HTTPTypes
import Hummingbird
import TSMBytes
import TSMEvidence

/// The Intel PCS/PCCS v4 REST API for a mock TDX authority: what `dcap_qvl.get_collateral`,
/// Intel's QPL and other DCAP clients fetch. Collateral is issued at each request (valid 30
/// days); issuer chains go in the response headers PCS sends, URL-encoded PEM.
public enum PCCSService {
    /// The routes of `authority`.
    public static func router(authority: TDXAuthority) -> Router<BasicRequestContext> {
        let router = Router()
        let fmspc = Hex.encode(authority.tdxPlatform.fmspc).uppercased()
        let collateral = { @Sendable () throws -> TDXCollateral in
            do { return try authority.tdxCollateral(at: Date()) } catch {
                throw HTTPError(.internalServerError, message: "\(error)")
            }
        }
        router.get("/sgx/certification/v4/pckcrl") { request, _ -> Response in
            guard request.uri.queryParameters.get("ca")?.lowercased() == "platform" else {
                throw HTTPError(.notFound, message: "the mock hierarchy has the Platform CA only (ca=platform)")
            }
            let current = try collateral()
            let der = request.uri.queryParameters.get("encoding")?.lowercased() == "der"
            let body = der ? current.pckCRL : Array(pem(current.pckCRL, "X509 CRL").utf8)
            return response(
                body, type: der ? "application/pkix-crl" : "application/x-pem-file",
                headers: ["SGX-PCK-CRL-Issuer-Chain": current.pckCRLIssuerChain])
        }
        // A PCCS serves the root CA CRL as hex text (Intel's PCS as DER).
        router.get("/sgx/certification/v4/rootcacrl") { _, _ -> Response in
            response(Array(Hex.encode(try collateral().rootCACRL).utf8), type: "text/plain", headers: [:])
        }
        router.get("/tdx/certification/v4/tcb") { request, _ -> Response in
            guard request.uri.queryParameters.get("fmspc")?.uppercased() == fmspc else {
                throw HTTPError(.notFound, message: "no TCB info for this FMSPC (the mock platform's is \(fmspc))")
            }
            let current = try collateral()
            return response(
                Array(current.tcbInfoResponse.utf8), type: "application/json",
                headers: ["TCB-Info-Issuer-Chain": current.tcbInfoIssuerChain])
        }
        router.get("/tdx/certification/v4/qe/identity") { _, _ -> Response in
            let current = try collateral()
            return response(
                Array(current.qeIdentityResponse.utf8), type: "application/json",
                headers: ["SGX-Enclave-Identity-Issuer-Chain": current.tcbInfoIssuerChain])
        }
        router.get("/sgx/certification/v4/pckcert") { _, _ -> Response in
            let platform = authority.tdxPlatform
            let tcbm = platform.cpuSVN + [UInt8(platform.pceSVN & 0xff), UInt8(platform.pceSVN >> 8)]
            let issuers = authority.intermediateCertificatePEM + authority.rootCertificatePEM
            return response(
                Array(authority.leafCertificatePEM.utf8), type: "application/x-pem-file",
                headers: [
                    "SGX-PCK-Certificate-Issuer-Chain": issuers, "SGX-TCBm": Hex.encode(tcbm).uppercased(),
                    "SGX-FMSPC": fmspc, "SGX-PCK-Certificate-CA-Type": "platform",
                ])
        }
        return router
    }

    static func response(_ body: [UInt8], type: String, headers: [String: String]) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = type
        for (name, value) in headers {
            if let field = HTTPField.Name(name) { fields[field] = percentEncoded(value) }
        }
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Percent-encoding of everything but RFC 3986's unreserved characters, as PCS encodes
    /// its issuer-chain headers.
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + Hex.encode([byte]).uppercased()
            }
        }
        return out
    }

    static func pem(_ der: [UInt8], _ label: String) -> String {
        let base64 = Data(der).base64EncodedString()
        var lines: [Substring] = []
        var rest = Substring(base64)
        while !rest.isEmpty {
            lines.append(rest.prefix(64))
            rest = rest.dropFirst(64)
        }
        return "-----BEGIN \(label)-----\n" + lines.joined(separator: "\n") + "\n-----END \(label)-----\n"
    }
}
