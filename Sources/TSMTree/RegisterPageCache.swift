import FuseKit
import Synchronization
import TSMModel

/// Which files the kernel may serve from its page cache, and the invalidation that keeps them
/// exact: every readable register file (RFC v2 `digest` and F files, 6.16 `measurements/` files),
/// opened for reading only, except live registers whose backend's refresh can fail (the kernel
/// backend). Everything else stays direct I/O.
///
/// Exactness: a register file's bytes change only when its provider's values change (every
/// register of a provider, derived and live ones included, is computed from that provider alone),
/// and every change calls the provider's ``MeasurementProvider/onChange(_:)`` observers before it
/// returns. The observer drops the cached pages of the provider's files that a READ may have
/// filled since the last drop. A READ marks its inode before it takes the provider lock, and the
/// observer takes the marks after the change released it: a READ that saw the old value was
/// marked before the change, so its pages are dropped (the kernel waits for a page whose READ is
/// still in flight); a READ marked after the take saw the new value. Drops of one provider run
/// one at a time, so a change whose own take found nothing still waits for an earlier change's
/// drop in flight.
final class RegisterPageCache: Sendable {
    /// One provider's cacheable files: those read since their pages were last dropped.
    private final class ProviderFiles: Sendable {
        let read = Mutex<Set<UInt64>>([])
        /// Held across a whole drop, the take of the marks included: a change returns only after
        /// every earlier change's drop finished, so no page older than it survives its return.
        let dropping = Mutex<Void>(())
    }

    /// Indexed by inode - 1 (static tree nodes only): the files of the provider it shows, or nil.
    private let slots: [ProviderFiles?]
    private let providers: [(MeasurementProvider, ProviderFiles)]
    /// Set once by ``serve(invalidating:)``: until then, nothing is cached. A class, not the bare
    /// closure: a `Mutex` of a function type rewraps it in a reabstraction thunk on every
    /// `withLock`, so each change lengthened a chain of thunks (memory per change, and a stack
    /// overflow releasing it at exit).
    private let invalidate = Mutex<Invalidation?>(nil)

    private final class Invalidation: Sendable {
        let body: @Sendable (InodeNumber) -> Void
        init(_ body: @escaping @Sendable (InodeNumber) -> Void) { self.body = body }
    }
    private let serving = Atomic<Bool>(false)

    init(tree: Tree) {
        var byProvider: [ObjectIdentifier: (MeasurementProvider, [InodeNumber])] = [:]
        var order: [ObjectIdentifier] = []
        for node in tree.nodes {
            guard case .file(let attribute) = node.content, let register = attribute as? RegisterAttribute,
                register.register.flags.contains(.readable)
            else { continue }
            // A refresh that can fail must reach its reader: no page-cache retry of a live read.
            if register.register.flags.contains(.live) && register.provider.backend.refreshMayFail { continue }
            let key = ObjectIdentifier(register.provider)
            if byProvider[key] == nil {
                byProvider[key] = (register.provider, [])
                order.append(key)
            }
            byProvider[key]?.1.append(node.inode)
        }
        var slots = [ProviderFiles?](repeating: nil, count: tree.nodes.count)
        var providers: [(MeasurementProvider, ProviderFiles)] = []
        for key in order {
            guard let (provider, inodes) = byProvider[key] else { continue }
            let files = ProviderFiles()
            for inode in inodes { slots[Int(inode.rawValue) - 1] = files }
            providers.append((provider, files))
        }
        self.slots = slots
        self.providers = providers
    }

    private func files(_ inode: InodeNumber) -> ProviderFiles? {
        let index = Int(truncatingIfNeeded: inode.rawValue) - 1
        return slots.indices.contains(index) ? slots[index] : nil
    }

    /// Starts caching: from now on each change of a provider drops its files' pages through
    /// `invalidate` (which must not return before the kernel dropped them). Once only.
    func serve(invalidating invalidate: @escaping @Sendable (InodeNumber) -> Void) {
        let first = self.invalidate.withLock { current -> Bool in
            guard current == nil else { return false }
            current = Invalidation(invalidate)
            return true
        }
        guard first else { return }
        for (provider, files) in providers {
            provider.onChange { [weak self] in self?.drop(files) }
        }
        serving.store(true, ordering: .sequentiallyConsistent)
    }

    /// Whether an open of `inode` for reading only may keep the kernel's cached pages.
    func isCached(_ inode: InodeNumber) -> Bool {
        files(inode) != nil && serving.load(ordering: .sequentiallyConsistent)
    }

    /// Called by every READ of `inode` before it reads the value.
    func willRead(_ inode: InodeNumber) {
        guard let files = files(inode) else { return }
        _ = files.read.withLock { $0.insert(inode.rawValue) }
    }

    /// Drops the pages of `files` read since the last drop. Runs on the changing thread with no
    /// lock held: the kernel may wait here for READs in flight, which take the provider lock.
    private func drop(_ files: ProviderFiles) {
        guard let invalidate = invalidate.withLock({ $0 }) else { return }
        files.dropping.withLock { _ in
            let read = files.read.withLock { read -> Set<UInt64> in
                defer { read.removeAll(keepingCapacity: true) }
                return read
            }
            for inode in read.sorted() { invalidate.body(InodeNumber(inode)) }
        }
    }
}

extension TSMFileSystem {
    /// Serves readable register files from the kernel's page cache from now on (keep-cache opens
    /// for reading), dropping their pages through `invalidator` whenever their provider's values
    /// change, before the change returns. Call once, before the session serves requests. Without
    /// it every file is direct I/O.
    public func servePageCache(_ invalidator: InodeInvalidator) {
        pageCache.serve { inode in invalidator.invalidateData(inode) }
    }
}
