import Hummingbird
import TSMEvidence

/// `tsmfs kds` and `tsmfs pccs` whole: the mock authority of a seed, the address to listen on
/// (as the command line gives it) and the service run until SIGTERM or SIGINT.
public enum LocalServices {
    /// Why a service did not start or stopped with an error; the description is the user's message.
    public enum Failure: Error, CustomStringConvertible {
        /// `--listen` is not ADDR:PORT.
        case listen(ListenAddress.ParseError)
        /// The mock authority of the seed could not be made.
        case authority(EvidenceError)
        /// The server failed.
        case service(ServiceFailure)

        public var description: String {
            switch self {
            case .listen(let error): return error.description
            case .authority(let error): return error.description
            case .service(let error): return error.description
            }
        }
    }

    /// AMD's KDS API for the mock SEV-SNP authority of `seed`, at `listen`.
    public static func runKDS(seed: String, listen: String) throws(Failure) {
        let address = try parse(listen)
        let kds: MockKDS
        do {
            kds = MockKDS(authority: try SNPAuthority(seed: seed))
        } catch {
            throw .authority(error)
        }
        try run("kds", at: address) { KDSService.router(kds: kds) }
    }

    /// Intel's PCS/PCCS v4 API for the mock TDX authority of `seed`, whose PCK certificate is of
    /// a platform at `tcbStatus`, at `listen`.
    public static func runPCCS(seed: String, tcbStatus: TCBStatus, listen: String) throws(Failure) {
        let address = try parse(listen)
        let authority: TDXAuthority
        do {
            authority = try TDXAuthority(seed: seed, tcbStatus: tcbStatus)
        } catch {
            throw .authority(error)
        }
        try run("pccs", at: address) { PCCSService.router(authority: authority) }
    }

    private static func parse(_ listen: String) throws(Failure) -> ListenAddress {
        do {
            return try ListenAddress(parsing: listen)
        } catch {
            throw .listen(error)
        }
    }

    private static func run(_ name: String, at address: ListenAddress,
                            makeRouter: @escaping @Sendable () -> Router<BasicRequestContext>) throws(Failure) {
        do {
            try ServiceRunner.runBlocking(name: name, address: address, makeRouter: makeRouter)
        } catch {
            throw .service(error)
        }
    }
}
