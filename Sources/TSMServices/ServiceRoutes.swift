import Hummingbird

/// The routes of a local service, read-only as the vendors' are: each path answers GET, HEAD
/// (the GET's status and headers, no body: RFC 9110 9.3.2) and, for any other method, 405
/// Method Not Allowed with `Allow: GET, HEAD` (RFC 9110 15.5.6); other paths answer 404.
struct ServiceRoutes {
    typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response

    let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
    private var patterns: [[Substring]] = []

    init() {}

    /// Adds a GET route; `:name` segments match any one segment, as Hummingbird's.
    mutating func get(_ path: String, _ handler: @escaping Handler) {
        router.get(RouterPath(path), use: handler)
        patterns.append(path.split(separator: "/"))
    }

    /// The router, with the 405 answer for the paths added.
    func finished() -> Router<BasicRequestContext> {
        router.add(middleware: MethodNotAllowedMiddleware(patterns: patterns))
        return router
    }
}

/// 405 with `Allow` for a method other than GET or HEAD on a path a route serves.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let patterns: [[Substring]]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.method != .get, request.method != .head, matches(request.uri.path) else {
            return try await next(request, context)
        }
        var fields = HTTPFields()
        fields[.allow] = "GET, HEAD"
        fields[.contentType] = "text/plain"
        let body = "\(request.method.rawValue) is not allowed here: this service answers GET and HEAD\n"
        return Response(
            status: .methodNotAllowed, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    func matches(_ path: String) -> Bool {
        let segments = path.split(separator: "/")
        return patterns.contains { pattern in
            pattern.count == segments.count
                && zip(pattern, segments).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
        }
    }
}
