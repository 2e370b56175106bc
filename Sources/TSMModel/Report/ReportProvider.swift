import SystemPackage

/// The attributes of a configfs-tsm report entry (ABI.md 4.2), with the kernel's visibility indexes.
public enum ReportAttribute: String, CaseIterable, Sendable {
    // Text attributes, in the kernel's index order.
    case generation, provider, privlevel
    case privlevelFloor = "privlevel_floor"
    case serviceProvider = "service_provider"
    case serviceGuid = "service_guid"
    case serviceManifestVersion = "service_manifest_version"
    // Binary attributes.
    case inblob, outblob, auxblob, manifestblob

    /// The file name under `report/<entry>/`.
    public var fileName: String { rawValue }

    public var isBinary: Bool {
        switch self {
        case .inblob, .outblob, .auxblob, .manifestblob: return true
        default: return false
        }
    }

    /// configfs modes: stores only 0200, shows only 0444.
    public var permissions: UInt16 {
        switch self {
        case .inblob, .privlevel, .serviceProvider, .serviceGuid, .serviceManifestVersion: return 0o200
        default: return 0o444
        }
    }

    /// The blob a binary read attribute selects.
    public var blob: ReportBlob? {
        switch self {
        case .outblob: return .outblob
        case .auxblob: return .auxblob
        case .manifestblob: return .manifestblob
        default: return nil
        }
    }
}

public enum ReportBlob: Sendable {
    case outblob, auxblob, manifestblob
}

/// What a report request carries to the provider (`struct tsm_desc`).
public struct ReportRequest: Sendable, Equatable {
    public var inblob: [UInt8]
    public var privlevel: UInt32
    public var serviceProvider: String?
    /// 16 bytes; all zero is the null GUID ("all services").
    public var serviceGuid: [UInt8]
    public var serviceManifestVersion: UInt32

    public init(
        inblob: [UInt8] = [], privlevel: UInt32 = 0, serviceProvider: String? = nil,
        serviceGuid: [UInt8] = [UInt8](repeating: 0, count: 16), serviceManifestVersion: UInt32 = 0
    ) {
        self.inblob = inblob
        self.privlevel = privlevel
        self.serviceProvider = serviceProvider
        self.serviceGuid = serviceGuid
        self.serviceManifestVersion = serviceManifestVersion
    }
}

/// The three blobs one report generation produces (`struct tsm_report` outblob/auxblob/manifestblob).
public struct ReportBlobs: Sendable, Equatable {
    public var outblob: [UInt8]
    public var auxblob: [UInt8]
    public var manifestblob: [UInt8]

    public init(outblob: [UInt8], auxblob: [UInt8] = [], manifestblob: [UInt8] = []) {
        self.outblob = outblob
        self.auxblob = auxblob
        self.manifestblob = manifestblob
    }

    public subscript(blob: ReportBlob) -> [UInt8] {
        switch blob {
        case .outblob: return outblob
        case .auxblob: return auxblob
        case .manifestblob: return manifestblob
        }
    }
}

/// The guest driver behind configfs-tsm (`struct tsm_report_ops`): its name, which attributes it
/// shows, its privilege floor, and `report_new`.
public protocol ReportProvider: Sendable {
    /// `provider` text without the newline: `tdx_guest`, `sev_guest`, `arm_cca_guest`.
    var name: String { get }
    /// `privlevel_floor`.
    var privlevelFloor: UInt32 { get }
    /// The visibility callbacks: hidden attributes do not exist (ENOENT).
    func isVisible(_ attribute: ReportAttribute) -> Bool
    /// `report_new`: checks the request (EINVAL for a bad inblob length, ...) and makes the blobs.
    func makeReport(_ request: ReportRequest) throws(Errno) -> ReportBlobs
    /// Called before `mkdir` under `report/` makes an entry: a thrown errno refuses the mkdir
    /// (ENXIO is what a kernel without a provider answers). The default admits every entry.
    func admitEntry() throws(Errno)
    /// Called after each blob read of `entry` was served, under the report lock (a decorator may
    /// store to the entry here, as a concurrent writer sharing it would). The default does nothing.
    func didServeBlob(of entry: ReportEntry)
}

extension ReportProvider {
    public func admitEntry() throws(Errno) {}
    public func didServeBlob(of entry: ReportEntry) {}
}
