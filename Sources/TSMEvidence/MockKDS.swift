import TSMBytes

/// AMD's Key Distribution Service API for a mock authority, free of any HTTP server: a request's
/// path and query in, a status, content type and body out. An HTTP face (the services module)
/// only has to hand it `GET` requests.
///
/// - `/vcek/v1/{product}/{hwid}?blSPL=B&teeSPL=T&snpSPL=S&ucodeSPL=U`: the DER VCEK of that chip
///   at that TCB (SPLs decimal 0-255, zero-padded or not, missing ones 0); 404 for another chip.
/// - `/vcek/v1/{product}/cert_chain`: PEM, ASK then ARK.
/// - `/vcek/v1/{product}/crl`, `/vlek/v1/{product}/crl`: the ARK's DER CRL of that hierarchy,
///   listing the ASK or ASVK when ``revoked`` has it (`SNPAuthority.crl(keyKind:revoked:at:)`).
/// - `/vlek/v1/{product}/cert_chain`: PEM, ASVK then ARK (VLEKs themselves go to cloud providers
///   by another interface, as on AMD's KDS).
/// - another product than the authority's (`Milan`), or another path: 404; bad parameters: 400.
public struct MockKDS: Sendable {
    /// One response.
    public struct Response: Sendable, Equatable {
        public var status: Int
        public var contentType: String
        public var body: [UInt8]
    }

    /// Longest request target read (a VCEK URL is about 200 bytes).
    public static let maximumTargetSize = 1024

    let authority: SNPAuthority
    /// The certificates the CRLs list as revoked (`tsmfs kds --revoke`).
    public let revoked: Set<AMDRevocable>

    /// The KDS of `authority`, whose CRLs list `revoked`.
    public init(authority: SNPAuthority, revoked: Set<AMDRevocable> = []) {
        self.authority = authority
        self.revoked = revoked
    }

    /// The URL path of this authority's VCEK at its TCB, as snpguest and go-sev-guest build it.
    public var vcekPath: String {
        let tcb = authority.snpPlatform.tcb
        return "/vcek/v1/\(AMDCertificates.productLine)/\(Hex.encode(authority.snpPlatform.chipID))"
            + "?blSPL=\(tcb.bootloader)&teeSPL=\(tcb.tee)&snpSPL=\(tcb.snp)&ucodeSPL=\(tcb.microcode)"
    }

    /// The response to `GET target` (path and optional query).
    public func get(_ target: String) -> Response {
        guard target.utf8.count <= Self.maximumTargetSize else {
            return Self.text(414, "request target longer than \(Self.maximumTargetSize) bytes")
        }
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let segments = parts[0].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard segments.count == 5, segments[0].isEmpty, ["vcek", "vlek"].contains(segments[1]), segments[2] == "v1"
        else {
            return Self.text(
                404,
                "not a KDS path: /vcek/v1/{product}/{hwid}, /vcek/v1/{product}/cert_chain or "
                    + "/vlek/v1/{product}/cert_chain"
            )
        }
        guard segments[3] == AMDCertificates.productLine else {
            return Self.text(404, "unknown product \(segments[3]); this KDS serves \(AMDCertificates.productLine)")
        }
        if segments[4] == "crl" {
            do {
                return Response(
                    status: 200, contentType: "application/pkix-crl",
                    body: try authority.crl(keyKind: segments[1], revoked: revoked))
            } catch {
                return Self.text(500, "cannot issue the CRL: \(error)")
            }
        }
        if segments[1] == "vlek" {
            guard segments[4] == "cert_chain" else { return Self.text(404, "the VLEK paths are cert_chain and crl") }
            let pem = authority.asvkCertificatePEM + authority.rootCertificatePEM
            return Response(status: 200, contentType: "application/x-pem-file", body: Array(pem.utf8))
        }
        if segments[4] == "cert_chain" {
            let pem = authority.intermediateCertificatePEM + authority.rootCertificatePEM
            return Response(status: 200, contentType: "application/x-pem-file", body: Array(pem.utf8))
        }
        guard let hwID = Hex.decode(segments[4].lowercased()), hwID.count == 64 else {
            return Self.text(400, "hwid is not 128 hex digits")
        }
        guard hwID == authority.snpPlatform.chipID else {
            return Self.text(404, "unknown chip")
        }
        let tcb: SNPTCB
        switch Self.tcb(query: parts.count > 1 ? String(parts[1]) : "") {
        case .success(let value): tcb = value
        case .failure(let problem): return Self.text(400, problem.message)
        }
        do {
            return Response(
                status: 200, contentType: "application/pkix-cert", body: try authority.vcekCertificate(tcb: tcb))
        } catch {
            return Self.text(500, "cannot issue the VCEK: \(error)")
        }
    }

    struct Problem: Error { let message: String }

    /// blSPL, teeSPL, snpSPL, ucodeSPL from a query string; missing ones are 0, others refused.
    static func tcb(query: String) -> Result<SNPTCB, Problem> {
        var values: [String: UInt8] = [:]
        for pair in query.split(separator: "&") {
            let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(keyValue[0])
            guard ["blSPL", "teeSPL", "snpSPL", "ucodeSPL"].contains(key) else {
                return .failure(Problem(message: "unknown query parameter \(key)"))
            }
            guard keyValue.count == 2, keyValue[1].count <= 3, let value = UInt8(keyValue[1]) else {
                return .failure(Problem(message: "\(key) is not a decimal 0-255"))
            }
            values[key] = value
        }
        return .success(
            SNPTCB(
                bootloader: values["blSPL"] ?? 0, tee: values["teeSPL"] ?? 0,
                snp: values["snpSPL"] ?? 0, microcode: values["ucodeSPL"] ?? 0))
    }

    static func text(_ status: Int, _ message: String) -> Response {
        Response(status: status, contentType: "text/plain; charset=utf-8", body: Array((message + "\n").utf8))
    }
}
