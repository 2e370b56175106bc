import TSMBackends
import TSMBytes
import TSMModel

/// A SEV-SNP guest's launch values, which the kernel shows only inside a report: each named once,
/// as a need the report resolves, and the built-in `sev-snp` table written from those needs. An
/// instance holds them resolved once from the measured provider: what every ATTESTATION_REPORT
/// signs.
public struct SNPRegisters: Sendable {
    public static let measurement = RegisterNeed.digest("measurement", .sha384)
    public static let hostData = RegisterNeed.file("host_data", size: 32)
    public static let idKeyDigest = RegisterNeed.file("id_key_digest", size: 48)
    public static let authorKeyDigest = RegisterNeed.file("author_key_digest", size: 48)
    public static let familyID = RegisterNeed.file("family_id", size: 16)
    public static let imageID = RegisterNeed.file("image_id", size: 16)
    /// POLICY, a little-endian u64.
    public static let policy = RegisterNeed.file("policy", size: 8)
    /// GUEST_SVN, a little-endian u32.
    public static let guestSVN = RegisterNeed.file("guest_svn", size: 4)

    /// The launch MEASUREMENT (sha384) and the other signed launch fields as F files. Read-only:
    /// SEV-SNP has no extendable registers. A `--guest sev-snp` sysroot serves it and signs these
    /// values into every report.
    public static let table = ProviderDescriptor(
        name: "sev-snp",
        registers: [
            measurement.row([.readable], initial: BuiltinProviders.launchValue("sev-snp measurement", .sha384)),
            hostData.row([.readable, .file], initial: BuiltinProviders.launchValue("sev-snp host_data", .sha256)),
            idKeyDigest.row([.readable, .file]), authorKeyDigest.row([.readable, .file]),
            familyID.row([.readable, .file]), imageID.row([.readable, .file]),
            // SMT allowed (bit 16), reserved bit 17 set, ABI 0.0.
            policy.row([.readable, .file], initial: [0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00]),
            guestSVN.row([.readable, .file]),
        ])

    public let provider: MeasurementProvider
    let measurementHandle, hostDataHandle, idKeyDigestHandle, authorKeyDigestHandle: RegisterHandle
    let familyIDHandle, imageIDHandle, policyHandle, guestSVNHandle: RegisterHandle

    public init(_ provider: MeasurementProvider, for face: String) throws(RegisterBindingError) {
        self.provider = provider
        measurementHandle = try provider.handle(Self.measurement, for: face)
        hostDataHandle = try provider.handle(Self.hostData, for: face)
        idKeyDigestHandle = try provider.handle(Self.idKeyDigest, for: face)
        authorKeyDigestHandle = try provider.handle(Self.authorKeyDigest, for: face)
        familyIDHandle = try provider.handle(Self.familyID, for: face)
        imageIDHandle = try provider.handle(Self.imageID, for: face)
        policyHandle = try provider.handle(Self.policy, for: face)
        guestSVNHandle = try provider.handle(Self.guestSVN, for: face)
    }

    /// The launch values at one moment.
    public struct Values: Sendable {
        public let measurement, hostData, idKeyDigest, authorKeyDigest, familyID, imageID: [UInt8]
        public let policy: UInt64
        public let guestSVN: UInt32
    }

    /// The launch values now, from one snapshot.
    public func values() -> Values {
        let snapshot = provider.snapshot()
        return Values(
            measurement: measurementHandle.value(in: snapshot), hostData: hostDataHandle.value(in: snapshot),
            idKeyDigest: idKeyDigestHandle.value(in: snapshot),
            authorKeyDigest: authorKeyDigestHandle.value(in: snapshot),
            familyID: familyIDHandle.value(in: snapshot), imageID: imageIDHandle.value(in: snapshot),
            policy: UInt64(littleEndianBytes: policyHandle.value(in: snapshot)),
            guestSVN: UInt32(littleEndianBytes: guestSVNHandle.value(in: snapshot)))
    }
}
