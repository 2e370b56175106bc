import Glibc
@testable import TSMServices
import Testing

/// The limits a service runs with and the paths its 405 answer covers (issue 24), without a server.
@Suite struct ServiceLimitsTests {
    @Test func tooLongAddressNamesItsLengthAndTheLimit() {
        #expect(throws: ListenAddress.ParseError.tooLong(302)) {
            try ListenAddress(parsing: String(repeating: "a", count: 300) + ":1")
        }
        #expect(ListenAddress.ParseError.tooLong(302).description.contains("302 bytes is longer than 300"))
    }

    @Test(arguments: [0, -1, 3601])
    func idleTimeoutOutOfRange(seconds: Int) {
        #expect(throws: ServiceLimits.Problem.idleTimeout(seconds)) {
            try ServiceLimits.forThisProcess(idleTimeout: seconds)
        }
    }

    @Test func connectionsStayBelowTheDescriptorLimit() throws {
        let limits = try ServiceLimits.forThisProcess(idleTimeout: 30)
        #expect(limits.idleTimeout == 30)
        #expect(limits.maximumConnections >= 1)
        #expect(
            limits.maximumConnections + ServiceLimits.openDescriptors() + ServiceLimits.descriptorReserve
                <= softLimit())
    }

    @Test func methodNotAllowedCoversTheRoutesPathsOnly() {
        let middleware = MethodNotAllowedMiddleware(patterns: [
            "/vcek/v1/:product/:hwid".split(separator: "/"), "/tdx/certification/v4/tcb".split(separator: "/"),
        ])
        #expect(middleware.matches("/vcek/v1/Milan/cert_chain"))
        #expect(middleware.matches("/tdx/certification/v4/tcb"))
        #expect(!middleware.matches("/vcek/v1/Milan"))
        #expect(!middleware.matches("/tdx/certification/v4/tcb/more"))
        #expect(!middleware.matches("/"))
    }

    func softLimit() -> Int {
        var limit = rlimit()
        let known = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0
        return known ? Int(min(limit.rlim_cur, 1 << 20)) : 1 << 20
    }
}
