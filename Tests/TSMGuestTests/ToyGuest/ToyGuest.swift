import Crypto
import FoundationEssentials
import SystemPackage
import TSMBackends
import TSMBytes
import TSMEvidence
import TSMGuest
import TSMModel

/// A fourth guest that exists only in the tests, added the way a real one is: this folder and
/// one line in a list (`ToyGuests.catalogue`). Its evidence is REPORTDATA ‖ LAUNCH ‖ RTM0 ‖ an
/// ECDSA P-256 signature (r ‖ s) over the rest, by a key derived from the seed; the trust anchor
/// is that key's public half.
enum ToyGuest: GuestDefinition {
    static let name = "toy"
    static let title = "Toy"
    static let reportProviderName = "toy_guest"
    static let launch = RegisterNeed.digest("launch", .sha256)
    static let rtm0 = RegisterNeed.digest("rtm0", .sha256, extensible: true)
    static let provider = ProviderDescriptor(
        name: "toy",
        registers: [
            launch.row([.readable], initial: Array(SHA256.hash(data: Array("toy launch".utf8)))),
            rtm0.row(RegisterFlags.rtmr.union(.writable)),
        ])
    static let servedByDefault = false
    static let faces = "--guest toy (its reports)"

    struct Settings: Sendable {}
    static let options: [GuestOption] = []
    static func settings(_ values: GuestOptionValues) throws(GuestOptionError) -> Settings { Settings() }

    /// A made-up provider that arrived in 6.8, so that 6.7 refuses the guest.
    static let reportsFeature = KernelFeature(
        KernelRelease(6, 8), commit: "0123456789ab", "the toy_guest report provider")
    static var kernelFeatures: [KernelFeature] { [reportsFeature] }
    static var kernelColumns: [KernelColumn] { [KernelColumn("toy_guest reports", marking: reportsFeature)] }

    static func key(seed: String) -> P256.Signing.PrivateKey? {
        try? P256.Signing.PrivateKey(rawRepresentation: Array(SHA256.hash(data: Array("toy \(seed)".utf8))))
    }

    static func trustAnchorPEM(seed: String) throws(EvidenceError) -> String {
        guard let key = key(seed: seed) else { throw .invalidInput(field: "seed", reason: "no key") }
        return key.publicKey.pemRepresentation + "\n"
    }

    static func certificates(seed: String) throws(EvidenceError) -> [CertificateFile] {
        [CertificateFile("toy.pem", try trustAnchorPEM(seed: seed))]
    }

    static let verification = VerificationInputs(evidenceLimit: 4096)
    static let verificationSummary = "Toy: the report's P-256 signature by the seed's key."
    static let trustAnchorSummary = "For --guest toy, the public key of the seed's P-256 key (PEM)."

    static func verify(_ request: VerifyRequest) throws(EvidenceError) -> VerifiedEvidence {
        let bytes = request.evidence
        guard bytes.count == 192 else {
            throw .malformed(structure: "toy report", reason: "\(bytes.count) bytes, not 192")
        }
        let publicKey: P256.Signing.PublicKey
        if let pem = request.trustAnchorPEM {
            guard let parsed = try? P256.Signing.PublicKey(pemRepresentation: pem) else {
                throw .malformed(structure: "trust anchor", reason: "not a P-256 public key")
            }
            publicKey = parsed
        } else {
            guard let key = key(seed: request.seed) else { throw .invalidInput(field: "seed", reason: "no key") }
            publicKey = key.publicKey
        }
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: bytes[128...]),
            publicKey.isValidSignature(signature, for: Array(bytes[..<128]))
        else {
            throw .failed(.reportSignature, reason: "the toy key's signature does not verify")
        }
        return VerifiedEvidence(
            guest: name, reportData: Array(bytes[0..<64]),
            claims: [
                VerifiedEvidence.Field("launch", .bytes(Array(bytes[64..<96]))),
                VerifiedEvidence.Field("rtm0", .bytes(Array(bytes[96..<128]))),
            ])
    }

    static func plan(_ context: GuestContext<Settings>) throws(AssemblyError) -> GuestPlan {
        let seed = context.spec.seed
        return GuestPlan(measured: context.measured, backend: SoftwareBackend()) { providers throws(AssemblyError) in
            let handles = try AssemblyError.binding { () throws(RegisterBindingError) in
                (
                    try providers.measured.handle(Self.launch, for: faces),
                    try providers.measured.handle(Self.rtm0, for: faces)
                )
            }
            return GuestFaces(reports: ToyReports(launch: handles.0, rtm0: handles.1, seed: seed))
        }
    }
}

/// The toy guest driver's configfs-tsm face.
struct ToyReports: ReportProvider {
    let name = ToyGuest.reportProviderName
    let privlevelFloor: UInt32 = 0
    let launch: RegisterHandle
    let rtm0: RegisterHandle
    let seed: String

    func isVisible(_ attribute: ReportAttribute) -> Bool {
        [.generation, .provider, .inblob, .outblob].contains(attribute)
    }

    func makeReport(_ request: ReportRequest) throws(Errno) -> ReportBlobs {
        guard request.inblob.count == 64 else { throw .invalidArgument }
        let values = launch.provider.snapshot()
        let signed = request.inblob + launch.value(in: values) + rtm0.value(in: values)
        guard let key = ToyGuest.key(seed: seed), let signature = try? key.signature(for: signed) else {
            throw .ioError
        }
        return ReportBlobs(outblob: signed + Array(signature.rawRepresentation))
    }
}
