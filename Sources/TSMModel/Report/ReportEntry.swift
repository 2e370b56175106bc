import Synchronization
import SystemPackage

/// The state of one configfs-tsm report entry (`struct tsm_report` with its generations), and the
/// kernel's rules for storing attributes and reading blobs (ABI.md 4.2-4.4).
public final class ReportEntry: Sendable {
    /// `TSM_REPORT_INBLOB_MAX`.
    public static let inblobMax = 64
    /// `TSM_REPORT_OUTBLOB_MAX` since Linux 7.0 (32 KiB before; the release table says which).
    public static let outblobMax = 16 << 20
    /// `TSM_PRIVLEVEL_MAX`.
    public static let privlevelMax: UInt32 = 3

    public let provider: any ReportProvider
    /// The largest outblob, auxblob or manifestblob a read returns (EFBIG past it).
    public let outblobMax: Int
    private let reportLock: ReportLock

    private struct State {
        /// Removed by rmdir (configfs's `frag_dead`): reads fill nothing, stores do nothing.
        var removed = false
        var request = ReportRequest()
        var writeGeneration: UInt64 = 0
        var readGeneration: UInt64 = 0
        var blobs: ReportBlobs?
    }

    private let state = Mutex(State())

    /// - Parameters:
    ///   - lock: shared by every entry, as the kernel's global `tsm_rwsem`.
    ///   - outblobMax: the release's `TSM_REPORT_OUTBLOB_MAX` (configfs answers EFBIG past it).
    public init(provider: any ReportProvider, lock: ReportLock, outblobMax: Int = ReportEntry.outblobMax) {
        self.provider = provider
        self.outblobMax = outblobMax
        self.reportLock = lock
    }

    /// What the next report is asked for: the stored attributes.
    public var request: ReportRequest { state.withLock { $0.request } }

    /// `generation`: the write generation.
    public var generation: UInt64 { state.withLock { $0.writeGeneration } }

    /// rmdir of the entry: files still open on it answer ENOENT to a first read or a store, as
    /// configfs does once the item is dead.
    public func markRemoved() {
        state.withLock { $0.removed = true }
    }

    public var isRemoved: Bool { state.withLock { $0.removed } }

    /// The kernel refuses a store only after about 2^64 stores with no read in between; a removed
    /// entry takes no store (ENOENT).
    private static func advance(_ state: inout State) throws(Errno) {
        guard !state.removed else { throw .noSuchFileOrDirectory }
        guard state.writeGeneration &+ 1 != state.readGeneration else { throw .resourceBusy }
        state.writeGeneration &+= 1
    }

    /// The close-time store of `inblob`: its length is whatever was buffered (possibly 0).
    public func storeInblob(_ bytes: [UInt8]) throws(Errno) {
        guard bytes.count <= Self.inblobMax else { throw .fileTooLarge }
        try state.withLock { (state: inout State) throws(Errno) in
            try Self.advance(&state)
            state.request.inblob = bytes
        }
    }

    /// `privlevel`: an unsigned integer (base prefixes allowed) from the floor to 3.
    public func storePrivlevel(_ text: [UInt8]) throws(Errno) {
        let value = try KernelNumber.parseUInt32(text)
        guard value <= Self.privlevelMax, value >= provider.privlevelFloor else { throw .invalidArgument }
        try state.withLock { (state: inout State) throws(Errno) in
            try Self.advance(&state)
            state.request.privlevel = value
        }
    }

    /// `service_provider`: free text, one trailing newline stripped; checked only at report time.
    public func storeServiceProvider(_ text: [UInt8]) throws(Errno) {
        var bytes = text
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        try state.withLock { (state: inout State) throws(Errno) in
            try Self.advance(&state)
            state.request.serviceProvider = String(decoding: bytes, as: UTF8.self)
        }
    }

    /// `service_guid`: a UUID. The generation advances first; a bad UUID resets the GUID to null
    /// and answers EINVAL.
    public func storeServiceGuid(_ text: [UInt8]) throws(Errno) {
        try state.withLock { (state: inout State) throws(Errno) in
            try Self.advance(&state)
            guard let guid = KernelNumber.parseUUID(text) else {
                state.request.serviceGuid = [UInt8](repeating: 0, count: 16)
                throw .invalidArgument
            }
            state.request.serviceGuid = guid
        }
    }

    /// `service_manifest_version`: an unsigned integer.
    public func storeServiceManifestVersion(_ text: [UInt8]) throws(Errno) {
        let value = try KernelNumber.parseUInt32(text)
        try state.withLock { (state: inout State) throws(Errno) in
            try Self.advance(&state)
            state.request.serviceManifestVersion = value
        }
    }

    /// A blob as the first read of an open file gets it: EINVAL before any inblob was stored;
    /// cached while the generations match; otherwise a new report (its error, if any, with no
    /// cached fallback). Concurrent readers make one report.
    public func blob(_ which: ReportBlob) throws(Errno) -> [UInt8] {
        try reportLock.serialize { () throws(Errno) -> [UInt8] in
            let (request, cached, generation, removed) = state.withLock { state in
                (
                    state.request, state.readGeneration == state.writeGeneration ? state.blobs : nil,
                    state.writeGeneration,
                    state.removed
                )
            }
            guard !removed else { throw .noSuchFileOrDirectory }
            guard !request.inblob.isEmpty else { throw .invalidArgument }
            if let cached {
                let blob = try checked(cached[which])
                provider.didServeBlob(of: self)
                return blob
            }
            let blobs = try provider.makeReport(request)
            state.withLock { state in
                // A store that raced with the report makes it stale at once; keep it for this read.
                state.blobs = blobs
                state.readGeneration = generation
            }
            let blob = try checked(blobs[which])
            provider.didServeBlob(of: self)
            return blob
        }
    }

    private func checked(_ blob: [UInt8]) throws(Errno) -> [UInt8] {
        guard blob.count <= outblobMax else { throw .fileTooLarge }
        return blob
    }
}

/// The one lock all report entries share while a report is made (the kernel's `tsm_rwsem`).
public final class ReportLock: Sendable {
    private let lock = Mutex(())

    public init() {}

    func serialize<T>(_ body: () throws(Errno) -> T) throws(Errno) -> T {
        try lock.withLock { (_: inout ()) throws(Errno) -> T in try body() }
    }
}
