import Hummingbird
import TSMEvidence

/// `tsmfs kds` and `tsmfs pccs` whole: the mock authority of a seed, the address to listen on
/// (as the command line gives it) and the service run until SIGTERM or SIGINT.
public enum LocalServices {
    /// Why a service did not start or stopped with an error; the description is the user's message.
    public enum Failure: Error, CustomStringConvertible {
        /// `--listen` is not ADDR:PORT.
        case listen(ListenAddress.ParseError)
        /// `--idle-timeout` out of range, or no descriptor left for a connection.
        case limits(ServiceLimits.Problem)
        /// The mock authority of the seed could not be made.
        case authority(EvidenceError)
        /// The server failed.
        case service(ServiceFailure)

        public var description: String {
            switch self {
            case .listen(let error): return error.description
            case .limits(let problem): return problem.description
            case .authority(let error): return error.description
            case .service(let error): return error.description
            }
        }
    }

    /// `tsmfs kds --help`: what it serves and how it runs.
    public static let kdsHelp = """
        GET /vcek/v1/Milan/{hwid}?blSPL=B&teeSPL=T&snpSPL=S&ucodeSPL=U gives the DER VCEK of the \
        mock chip at that TCB (404 for another chip); GET /vcek/v1/Milan/cert_chain gives the ASK \
        then the ARK as PEM: the same certificates a report's auxblob holds; GET \
        /vlek/v1/Milan/cert_chain gives the ASVK then the ARK (the chain of a `--signing-key vlek` \
        guest's VLEK); GET /vcek/v1/Milan/crl and /vlek/v1/Milan/crl give the ARK's DER CRL \
        (RSASSA-PSS SHA-384), listing the ASK or ASVK when --revoke names it. \(running("kds"))
        """

    /// `tsmfs pccs --help`: what it serves and how it runs.
    public static let pccsHelp = """
        GET /sgx/certification/v4/pckcrl?ca=platform[&encoding=der], /sgx/certification/v4/rootcacrl \
        (hex, as a PCCS serves it), /tdx/certification/v4/tcb?fmspc=HEX (404 for another FMSPC), \
        /tdx/certification/v4/qe/identity and /sgx/certification/v4/pckcert, with PCS's issuer-chain \
        headers. \(running("pccs"))
        """

    /// How every service runs, as ``ServiceRunner`` runs it.
    static func running(_ name: String) -> String {
        "Prints \"tsmfs \(name): ready on http://ADDR:PORT\" when it accepts connections (port 0 picks a free "
            + "port); SIGTERM or SIGINT stops it. "
            + "GET and HEAD only (405 for other methods); HTTP/1.0 and Connection: close are honoured. "
            + "A connection idle for --idle-timeout seconds (default \(ServiceLimits.defaultIdleTimeout)), or "
            + "that has not sent a whole request head by then, is closed; connections are capped below the "
            + "open-file limit (ulimit -n) less a reserve, and further clients wait in the listen backlog."
    }

    /// AMD's KDS API for the mock SEV-SNP authority of `seed`, at `listen`.
    /// The CRLs list `revoked`.
    public static func runKDS(seed: String, listen: String, idleTimeout: Int, revoked: Set<AMDRevocable> = [])
        throws(Failure)
    {
        let address = try parse(listen)
        let limits = try limits(idleTimeout)
        let kds: MockKDS
        do {
            kds = MockKDS(authority: try SNPAuthority(seed: seed), revoked: revoked)
        } catch {
            throw .authority(error)
        }
        try run("kds", at: address, limits: limits) { KDSService.router(kds: kds) }
    }

    /// Intel's PCS/PCCS v4 API for the mock TDX authority of `seed`, whose PCK certificate is of
    /// a platform at `tcbStatus`, at `listen`.
    public static func runPCCS(seed: String, tcbStatus: TCBStatus, listen: String, idleTimeout: Int) throws(Failure) {
        let address = try parse(listen)
        let limits = try limits(idleTimeout)
        let authority: TDXAuthority
        do {
            authority = try TDXAuthority(seed: seed, tcbStatus: tcbStatus)
        } catch {
            throw .authority(error)
        }
        try run("pccs", at: address, limits: limits) { PCCSService.router(authority: authority) }
    }

    /// Checks a service's `--listen` and `--idle-timeout` before anything runs: the commands
    /// refuse them as usage errors (exit 64), both the same way.
    public static func validate(listen: String, idleTimeout: Int) throws(Failure) {
        _ = try parse(listen)
        guard (1...ServiceLimits.maximumIdleTimeout).contains(idleTimeout) else {
            throw .limits(.idleTimeout(idleTimeout))
        }
    }

    private static func limits(_ idleTimeout: Int) throws(Failure) -> ServiceLimits {
        do {
            return try ServiceLimits.forThisProcess(idleTimeout: idleTimeout)
        } catch {
            throw .limits(error)
        }
    }

    private static func parse(_ listen: String) throws(Failure) -> ListenAddress {
        do {
            return try ListenAddress(parsing: listen)
        } catch {
            throw .listen(error)
        }
    }

    private static func run(
        _ name: String, at address: ListenAddress, limits: ServiceLimits,
        makeRouter: @escaping @Sendable () -> Router<BasicRequestContext>
    ) throws(Failure) {
        do {
            try ServiceRunner.runBlocking(name: name, address: address, limits: limits, makeRouter: makeRouter)
        } catch {
            throw .service(error)
        }
    }
}
