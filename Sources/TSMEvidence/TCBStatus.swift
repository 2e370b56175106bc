import Crypto

/// The TCB statuses Intel's TCB info gives a platform's TCB level, in the order of their
/// severity (as Intel's and dcap-qvl's verifiers merge them): the `tcbStatus` strings.
public enum TCBStatus: String, Sendable, CaseIterable, Codable {
    /// The platform's TCB is current.
    case upToDate = "UpToDate"
    /// Current, but software mitigations are needed (the advisory IDs say which).
    case swHardeningNeeded = "SWHardeningNeeded"
    /// Current, but the platform's configuration must change.
    case configurationNeeded = "ConfigurationNeeded"
    /// Both of the above.
    case configurationAndSWHardeningNeeded = "ConfigurationAndSWHardeningNeeded"
    /// A newer TCB exists: the platform needs an update.
    case outOfDate = "OutOfDate"
    /// Out of date and needing a configuration change.
    case outOfDateConfigurationNeeded = "OutOfDateConfigurationNeeded"
    /// The TCB is revoked: verifiers refuse the quote.
    case revoked = "Revoked"

    /// Its place in the mock TCB info's levels, newest (0) first: the level's SGX components
    /// fall by one per place, so a platform at place `i` matches level `i` and no level above it.
    var levelIndex: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    /// A verifier accepts every status but `Revoked` and reports it; Revoked is refused.
    public var isAcceptable: Bool { self != .revoked }
}

/// The platform a mock TDX authority vouches for: the values Intel's PCK certificate carries in
/// its SGX Extensions (OID 1.2.840.113741.1.13.1), all but the TCB derived from the seed.
public struct TDXPlatform: Sendable, Equatable {
    /// FMSPC (6 bytes): family-model-stepping-platform-custom SKU; names the TCB info.
    public let fmspc: [UInt8]
    /// PCE-ID (2 bytes): 0000 as on every Intel platform.
    public let pceID: [UInt8]
    /// PPID (16 bytes): the platform provisioning ID.
    public let ppid: [UInt8]
    /// Platform instance ID (16 bytes), which a PCK certificate from the Platform CA carries.
    public let platformInstanceID: [UInt8]
    /// The TCB status of the level the platform's TCB matches.
    public let tcbStatus: TCBStatus
    /// CPUSVN (16 bytes) = the SGX TCB components of that level.
    public let cpuSVN: [UInt8]
    /// PCESVN of the level.
    public let pceSVN: UInt16

    /// The SGX TCB components of the newest mock level; older levels lower the first two.
    static let newestSGXComponents: [UInt8] =
        [0x0c, 0x0c, 0x02, 0x02, 0x03, 0x01, 0x00, 0x05] + [UInt8](repeating: 0, count: 8)
    /// PCESVN of every mock level.
    static let mockPCESVN: UInt16 = 13

    /// The SGX components of the level at `index` (0 = newest).
    static func sgxComponents(level index: Int) -> [UInt8] {
        var components = newestSGXComponents
        components[0] -= UInt8(index)
        components[1] -= UInt8(index)
        return components
    }

    /// The mock platform of `seed` whose TCB matches the level of `tcbStatus`.
    public static func mock(seed: String, tcbStatus: TCBStatus = .upToDate) -> TDXPlatform {
        func derived(_ label: String, _ count: Int) -> [UInt8] {
            Array(SHA256.hash(data: Array("tsmfs mock tdx \(label) \(seed)".utf8)).prefix(count))
        }
        return TDXPlatform(
            fmspc: [0x00, 0x80, 0x6f] + derived("fmspc", 3), pceID: [0, 0], ppid: derived("ppid", 16),
            platformInstanceID: derived("platform instance id", 16), tcbStatus: tcbStatus,
            cpuSVN: sgxComponents(level: tcbStatus.levelIndex), pceSVN: mockPCESVN)
    }
}
