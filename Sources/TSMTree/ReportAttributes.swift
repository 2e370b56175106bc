import FuseKit
import Synchronization
import SystemPackage
import TSMModel

/// `/sys/kernel/config/tsm/report/`: mkdir makes a report entry with the attributes its provider
/// shows; rmdir drops it, populated or not. Entries are independent; reports are serialised by
/// one lock shared by all of them.
public final class ReportGroup: GroupDirectory {
    public let provider: any ReportProvider
    /// The release's `TSM_REPORT_OUTBLOB_MAX`.
    public let outblobMax: Int
    private let lock = ReportLock()
    private let entries = Mutex<[String: ReportEntry]>([:])

    public init(provider: any ReportProvider, outblobMax: Int = ReportEntry.outblobMax) {
        self.provider = provider
        self.outblobMax = outblobMax
    }

    public func makeItem(named name: String) throws(Errno) -> [(String, any Attribute)] {
        try provider.admitEntry()
        let entry = ReportEntry(provider: provider, lock: lock, outblobMax: outblobMax)
        entries.withLock { $0[name] = entry }
        return ReportAttribute.allCases.filter(provider.isVisible).map { attribute in
            (attribute.fileName, Self.file(attribute, of: entry))
        }
    }

    public func dropItem(named name: String) {
        entries.withLock { $0.removeValue(forKey: name) }?.markRemoved()
    }

    /// The entry behind an item (tests, diagnostics).
    public func entry(named name: String) -> ReportEntry? {
        entries.withLock { $0[name] }
    }

    static func file(_ attribute: ReportAttribute, of entry: ReportEntry) -> any Attribute {
        switch attribute {
        case .inblob: return InblobAttribute(entry: entry)
        case .outblob, .auxblob, .manifestblob: return BlobAttribute(entry: entry, attribute: attribute)
        case .generation, .provider, .privlevelFloor: return ShowAttribute(entry: entry, attribute: attribute)
        case .privlevel, .serviceProvider, .serviceGuid, .serviceManifestVersion:
            return StoreAttribute(entry: entry, attribute: attribute)
        }
    }
}

/// A configfs text attribute with a show method: filled once per open file, on its first read.
struct ShowAttribute: Attribute {
    let entry: ReportEntry
    let attribute: ReportAttribute
    var permissions: UInt16 { attribute.permissions }
    let size: UInt64 = 4096

    /// ENOENT once the entry was removed (configfs's `frag_dead`).
    func text() throws(Errno) -> [UInt8] {
        guard !entry.isRemoved else { throw .noSuchFileOrDirectory }
        switch attribute {
        case .generation: return Array("\(entry.generation)\n".utf8)
        case .provider: return Array("\(entry.provider.name)\n".utf8)
        case .privlevelFloor: return Array("\(entry.provider.privlevelFloor)\n".utf8)
        default: return []
        }
    }

    func open(flags: OpenFlags) throws(Errno) -> (any OpenFile)? {
        SnapshotFile { () throws(Errno) in try self.text() }
    }

    func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] {
        SnapshotFile.slice(try text(), offset: offset, count: count)
    }
}

/// A configfs text attribute with a store method: each write() is one complete store of at most
/// 4095 bytes (the rest is ignored), whatever the offset; the store's errno is the write's.
struct StoreAttribute: Attribute {
    let entry: ReportEntry
    let attribute: ReportAttribute
    var permissions: UInt16 { attribute.permissions }
    let size: UInt64 = 4096

    func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] { throw .permissionDenied }

    func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int {
        let text = Array(data.prefix(4095))
        if text.isEmpty { return 0 }
        switch attribute {
        case .privlevel: try entry.storePrivlevel(text)
        case .serviceProvider: try entry.storeServiceProvider(text)
        case .serviceGuid: try entry.storeServiceGuid(text)
        case .serviceManifestVersion: try entry.storeServiceManifestVersion(text)
        default: throw .permissionDenied
        }
        return text.count
    }
}

/// `inblob`: writes are buffered per open file (EFBIG past 64 bytes, nothing buffered from that
/// call) and stored at close. Once any write was attempted, close stores whatever is buffered,
/// possibly nothing; the store's own error cannot be seen, as in configfs.
struct InblobAttribute: Attribute {
    let entry: ReportEntry
    let permissions: UInt16 = 0o200
    let size: UInt64 = 0

    func open(flags: OpenFlags) throws(Errno) -> (any OpenFile)? { InblobFile(entry: entry, append: flags.append) }
    func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] { throw .permissionDenied }
    func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int { throw .permissionDenied }
}

final class InblobFile: OpenFile {
    private struct State {
        var buffer: [UInt8] = []
        /// A write was attempted since the last store.
        var pending = false
        /// The descriptor's own position, for an O_APPEND open: configfs ignores O_APPEND on
        /// binary attributes and writes at the position, while FUSE sends the cached file size.
        var position: Int64 = 0
    }

    let entry: ReportEntry
    let append: Bool
    private let state = Mutex(State())

    init(entry: ReportEntry, append: Bool = false) {
        self.entry = entry
        self.append = append
    }

    func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] { throw .textFileBusy }

    func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try state.withLock { (state: inout State) throws(Errno) -> Int in
            state.pending = true
            let offset = append ? state.position : offset
            guard offset >= 0, offset + Int64(data.count) <= Int64(ReportEntry.inblobMax) else { throw .fileTooLarge }
            let end = Int(offset) + data.count
            if state.buffer.count < end { state.buffer += [UInt8](repeating: 0, count: end - state.buffer.count) }
            state.buffer.replaceSubrange(Int(offset)..<end, with: data)
            state.position = Int64(end)
            return data.count
        }
    }

    /// configfs stores at release; FUSE's release is asynchronous to close(2), so the store runs
    /// at flush, which close(2) waits for: an outblob read right after close sees the new inblob.
    func flush() throws(Errno) {
        let pending: [UInt8]? = state.withLock { state in
            guard state.pending else { return nil }
            state.pending = false
            return state.buffer
        }
        if let pending { try? entry.storeInblob(pending) }
    }

    func release() {
        try? flush()
    }
}

/// `outblob`, `auxblob`, `manifestblob`: the first read of an open file takes the blob (making a
/// report when the inblob or an option changed) and later reads come from that snapshot. No
/// 4096-byte cap: one read returns the whole blob when it fits.
struct BlobAttribute: Attribute {
    let entry: ReportEntry
    let attribute: ReportAttribute
    var permissions: UInt16 { attribute.permissions }
    let size: UInt64 = 0

    func open(flags: OpenFlags) throws(Errno) -> (any OpenFile)? {
        let entry = self.entry
        let blob = attribute.blob ?? .outblob
        return SnapshotFile { () throws(Errno) in try entry.blob(blob) }
    }

    func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] {
        SnapshotFile.slice(try entry.blob(attribute.blob ?? .outblob), offset: offset, count: count)
    }
}

/// An open file whose contents are taken once, on the first read that succeeds, and kept.
final class SnapshotFile: OpenFile {
    private let fill: @Sendable () throws(Errno) -> [UInt8]
    private let snapshot = Mutex<[UInt8]?>(nil)

    init(_ fill: @escaping @Sendable () throws(Errno) -> [UInt8]) {
        self.fill = fill
    }

    func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] {
        let contents = try snapshot.withLock { (snapshot: inout [UInt8]?) throws(Errno) -> [UInt8] in
            if let snapshot { return snapshot }
            let contents = try fill()
            snapshot = contents
            return contents
        }
        return Self.slice(contents, offset: offset, count: count)
    }

    func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int { throw .textFileBusy }

    static func slice(_ bytes: [UInt8], offset: Int64, count: Int) -> [UInt8] {
        guard offset >= 0, offset < Int64(bytes.count), count > 0 else { return [] }
        let start = Int(offset)
        return Array(bytes[start..<min(bytes.count, start + count)])
    }
}
