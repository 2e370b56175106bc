import Crypto
import TSMBytes

/// The SVSM attestation services manifest (SVSM specification 58019, the `SVSM_ATTEST_SERVICES`
/// call; laid out as Coconut-SVSM writes it): a GUID table whose 24-byte header is the manifest
/// GUID, the u32 total length and the u32 entry count, then one 24-byte entry per service (GUID,
/// u32 offset, u32 length) and the services' data. GUIDs are in the EFI mixed-endian order.
public struct SVSMServicesManifest: Sendable, Equatable {
    /// 63849ebb-3d92-4670-a1ff-58f9c94b87bb.
    public static let manifestGUID = GUID(bytes: Hex.decode("63849ebb3d924670a1ff58f9c94b87bb") ?? [])
    static let entrySize = 24

    public struct Service: Sendable, Equatable {
        public var guid: GUID
        public var data: [UInt8]
        public init(guid: GUID, data: [UInt8]) {
            self.guid = guid
            self.data = data
        }
    }

    public var services: [Service]

    public init(services: [Service]) {
        self.services = services
    }

    /// The services a tsmfs mock SVSM offers: a vTPM (SVSM vTPM protocol GUID
    /// c476f1eb-0123-45a5-9641-b4e7dde5bfe3) whose manifest is a stand-in digest of the seed.
    public static func mock(seed: String) -> SVSMServicesManifest {
        let vtpm = GUID(bytes: Hex.decode("c476f1eb012345a59641b4e7dde5bfe3") ?? [])
        return SVSMServicesManifest(services: [
            Service(guid: vtpm, data: Array(SHA384.hash(data: Array("tsmfs mock svsm vtpm \(seed)".utf8))))
        ])
    }

    /// The wire form.
    public func encoded() -> [UInt8] {
        let headerSize = Self.entrySize * (1 + services.count)
        let total = headerSize + services.reduce(0) { $0 + $1.data.count }
        var writer = ByteWriter()
        writer.append(Self.manifestGUID.mixedEndian.bytes)
        writer.u32(UInt32(truncatingIfNeeded: total))
        writer.u32(UInt32(truncatingIfNeeded: services.count))
        var cursor = headerSize
        for service in services {
            writer.append(service.guid.mixedEndian.bytes)
            writer.u32(UInt32(truncatingIfNeeded: cursor))
            writer.u32(UInt32(truncatingIfNeeded: service.data.count))
            cursor += service.data.count
        }
        for service in services { writer.append(service.data) }
        return writer.bytes
    }

    /// REPORT_DATA of the SVSM's attestation report: SHA-512(nonce ‖ manifest).
    public static func reportData(nonce: [UInt8], manifest: [UInt8]) -> [UInt8] {
        Array(SHA512.hash(data: nonce + manifest))
    }
}
