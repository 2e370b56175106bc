import Hummingbird
import TSMEvidence

/// AMD's Key Distribution Service API for a mock SEV-SNP authority (`MockKDS` answers; this
/// only carries its answers over HTTP): `GET /vcek/v1/Milan/{hwid}?blSPL=..&teeSPL=..&snpSPL=..
/// &ucodeSPL=..` (DER VCEK, 404 for another chip), `GET /vcek/v1/Milan/cert_chain` (PEM, ASK
/// then ARK) and `GET /vlek/v1/Milan/cert_chain` (PEM, ASVK then ARK). Run it with
/// `ServiceRunner.run(name: "kds", router:address:)`, as `tsmfs pccs`.
public enum KDSService {
    /// The routes of `kds`: GET and HEAD, 405 for other methods (see `ServiceRoutes`).
    public static func router(kds: MockKDS) -> Router<BasicRequestContext> {
        var routes = ServiceRoutes()
        for path in ["/vcek/v1/:product/:hwid", "/vlek/v1/:product/:name"] {
            routes.get(path) { request, _ -> Response in
                let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
                let answer = kds.get(target)
                var fields = HTTPFields()
                fields[.contentType] = answer.contentType
                return Response(
                    status: HTTPResponse.Status(code: answer.status), headers: fields,
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
            }
        }
        return routes.finished()
    }
}
