import FoundationEssentials
import HTTPTypes
import Hummingbird
import TSMBytes
import TSMEvidence

/// The Intel PCS/PCCS v4 REST API for a mock TDX authority: what `dcap_qvl.get_collateral`,
/// Intel's QPL and other DCAP clients fetch. Collateral is 1 to 2 hours old when served
/// (`TDXAuthority.collateralIssueDate(servedAt:)`) and valid 30 days from its issue; issuer
/// chains go in the response headers PCS sends, URL-encoded PEM.
public enum PCCSService {
    /// The routes of `authority`. A missing or malformed parameter answers 400, as PCS v4 does;
    /// a well-formed one the mock does not have (another FMSPC, the Processor CA) answers 404.
    public static func router(authority: TDXAuthority) -> Router<BasicRequestContext> {
        var routes = ServiceRoutes()
        let fmspc = Hex.encode(authority.tdxPlatform.fmspc).uppercased()
        let collateral = { @Sendable () throws -> TDXCollateral in
            do { return try authority.currentTDXCollateral(servedAt: Date()) } catch {
                throw HTTPError(.internalServerError, message: "\(error)")
            }
        }
        routes.get("/sgx/certification/v4/pckcrl") { request, _ -> Response in
            let query = request.uri.queryParameters
            let ca = try parameter(query, "ca", oneOf: ["processor", "platform"])
            let encoding = try parameter(query, "encoding", oneOf: ["der", "pem"], required: false)
            guard ca == "platform" else {
                throw HTTPError(.notFound, message: "the mock hierarchy has the Platform CA only (ca=platform)")
            }
            let current = try collateral()
            let der = encoding == "der"
            let body = der ? current.pckCRL : Array(pem(current.pckCRL, "X509 CRL").utf8)
            return response(
                body, type: der ? "application/pkix-crl" : "application/x-pem-file",
                headers: ["SGX-PCK-CRL-Issuer-Chain": current.pckCRLIssuerChain])
        }
        // A PCCS serves the root CA CRL as hex text (Intel's PCS as DER).
        routes.get("/sgx/certification/v4/rootcacrl") { _, _ -> Response in
            response(Array(Hex.encode(try collateral().rootCACRL).utf8), type: "text/plain", headers: [:])
        }
        routes.get("/tdx/certification/v4/tcb") { request, _ -> Response in
            let query = request.uri.queryParameters
            let asked = try hexParameter(query, "fmspc", digits: 12).uppercased()
            _ = try parameter(query, "update", oneOf: ["early", "standard"], required: false)
            guard asked == fmspc else {
                throw HTTPError(.notFound, message: "no TCB info for FMSPC \(asked) (the mock platform's is \(fmspc))")
            }
            let current = try collateral()
            return response(
                Array(current.tcbInfoResponse.utf8), type: "application/json",
                headers: ["TCB-Info-Issuer-Chain": current.tcbInfoIssuerChain])
        }
        routes.get("/tdx/certification/v4/qe/identity") { request, _ -> Response in
            _ = try parameter(request.uri.queryParameters, "update", oneOf: ["early", "standard"], required: false)
            let current = try collateral()
            return response(
                Array(current.qeIdentityResponse.utf8), type: "application/json",
                headers: ["SGX-Enclave-Identity-Issuer-Chain": current.tcbInfoIssuerChain])
        }
        // PCS's GET form: the encrypted PPID and the raw TCB; the mock has one platform, whose
        // PCK certificate answers every well-formed request.
        routes.get("/sgx/certification/v4/pckcert") { request, _ -> Response in
            let query = request.uri.queryParameters
            for (name, digits) in [("encrypted_ppid", 768), ("cpusvn", 32), ("pcesvn", 4), ("pceid", 4)] {
                _ = try hexParameter(query, name, digits: digits)
            }
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
        return routes.finished()
    }

    /// The query parameter `name`, one of `values` (PCS's are lower case); 400 when missing
    /// (if required) or another value.
    static func parameter(
        _ query: Parameters, _ name: String, oneOf values: [String], required: Bool = true
    ) throws -> String? {
        guard let value = query.get(name) else {
            if required {
                throw HTTPError(.badRequest, message: "missing parameter \(name) (\(values.joined(separator: " or ")))")
            }
            return nil
        }
        guard values.contains(value.lowercased()) else {
            throw HTTPError(
                .badRequest,
                message: "parameter \(name)=\(value.prefix(64)) is not \(values.joined(separator: " or "))")
        }
        return value.lowercased()
    }

    /// The query parameter `name`: exactly `digits` hexadecimal digits, else 400.
    static func hexParameter(_ query: Parameters, _ name: String, digits: Int) throws -> String {
        guard let value = query.get(name) else {
            throw HTTPError(.badRequest, message: "missing parameter \(name) (\(digits) hex digits)")
        }
        guard value.utf8.count == digits,
            value.utf8.allSatisfy({ $0 < 0x80 && Character(UnicodeScalar($0)).isHexDigit })
        else {
            throw HTTPError(
                .badRequest,
                message:
                    "parameter \(name)=\(value.prefix(64)) is not \(digits) hex digits (\(value.utf8.count) characters)"
            )
        }
        return value
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
