import SystemPackage
import TSMBackends
import TSMEvidence
import TSMModel

/// A CCA realm's measurements: the RIM and REM0...REM3 (SHA-256) that every realm token
/// carries, each named once, and the built-in `cca` table written from them. An instance holds
/// them resolved once from the measured provider.
public struct CCARegisters: Sendable {
    public static let rim = RegisterNeed.digest("rim", .sha256)
    public static let rems: [RegisterNeed] = (0..<4).map { .digest("rem\($0)", .sha256, extensible: true) }
    /// The realm hash algorithm (claim 44236) of these registers.
    public static let hashAlgorithm = "sha-256"

    /// An Arm CCA realm: the RIM and four REMs, all SHA-256, so SHA-256 extends are served.
    public static let table = ProviderDescriptor(
        name: "cca",
        registers: [
            rim.row([.readable], initial: BuiltinProviders.launchValue("cca rim", .sha256))
        ] + rems.map { $0.row(RegisterFlags.rtmr.union(.writable)) })

    /// The `cca` provider the handles belong to.
    public let provider: MeasurementProvider
    let rimHandle: RegisterHandle
    let remHandles: [RegisterHandle]

    /// Resolves RIM and REM0..3 (32-byte SHA-256 digests); `face` names the face in the error.
    public init(_ provider: MeasurementProvider, for face: String) throws(RegisterBindingError) {
        self.provider = provider
        rimHandle = try provider.handle(Self.rim, for: face)
        var rems: [RegisterHandle] = []
        for need in Self.rems { rems.append(try provider.handle(need, for: face)) }
        remHandles = rems
    }

    /// RIM and the four REMs now, from one snapshot.
    public func values() -> (rim: [UInt8], rems: [[UInt8]]) {
        let snapshot = provider.snapshot()
        return (rimHandle.value(in: snapshot), remHandles.map { $0.value(in: snapshot) })
    }
}

/// The Arm CCA guest driver's configfs-tsm face (`arm_cca_guest`, Linux 6.13+): the challenge
/// (32 to 64 bytes, zero-padded to 64) goes to RSI_ATTESTATION_TOKEN_INIT and the outblob is the
/// CCA attestation token over the `cca` provider's current RIM and REMs.
public struct CCAReportProvider: ReportProvider {
    /// KBUILD_MODNAME of `drivers/virt/coco/arm-cca-guest`.
    public let name = "arm_cca_guest"
    /// The driver sets no floor: `privlevel_floor` reads 0.
    public let privlevelFloor: UInt32 = 0
    /// The smallest challenge the driver accepts.
    public static let minChallenge = 32
    /// RSI's challenge size: shorter challenges are zero-padded to it.
    public static let challengeSize = 64
    let registers: CCARegisters
    let authority: CCAAuthority
    let personalizationValue: [UInt8]
    let format: CCAToken.Format
    let log: EvidenceLog

    /// - Parameter personalizationValue: the RPV the host gave the realm (64 bytes).
    /// - Parameter format: the collection the two tokens come in (RMM 1.0's tag 399 by default).
    public init(
        registers: CCARegisters, authority: CCAAuthority, personalizationValue: [UInt8],
        format: CCAToken.Format = .tag399, log: @escaping EvidenceLog
    ) {
        self.registers = registers
        self.authority = authority
        self.personalizationValue = personalizationValue
        self.format = format
        self.log = log
    }

    /// The driver sets no visibility callback: every attribute exists.
    public func isVisible(_ attribute: ReportAttribute) -> Bool { true }

    /// EINVAL for a challenge shorter than 32 bytes (more than 64 never reaches here: the
    /// inblob store refuses it with EFBIG); EIO if the token cannot be made. The auxblob and
    /// manifestblob stay empty, as the driver never sets them.
    public func makeReport(_ request: ReportRequest) throws(Errno) -> ReportBlobs {
        guard (Self.minChallenge...Self.challengeSize).contains(request.inblob.count) else { throw .invalidArgument }
        let challenge = request.inblob + [UInt8](repeating: 0, count: Self.challengeSize - request.inblob.count)
        let (rim, rems) = registers.values()
        let claims = CCARealmClaims(
            challenge: challenge, personalizationValue: personalizationValue,
            hashAlgorithm: CCARegisters.hashAlgorithm, publicKey: authority.rakCOSEKey,
            publicKeyHashAlgorithm: "sha-256", rim: rim, rems: rems)
        do {
            return ReportBlobs(outblob: try authority.token(claims, format: format))
        } catch {
            log("\(name): cannot make a token: \(error)")
            throw .ioError
        }
    }
}
