import FoundationEssentials
import TSMBackends
import TSMBytes
import TSMEvidence
import TSMGuest
import TSMModel

/// Everything a serving daemon is asked to serve, as parsed values: what `tsmfs mount` builds
/// from its options, and what `tsmfs exec` hands the daemon it starts (JSON in a file of its
/// private directory), so that no process re-serialises another's command line.
public struct DaemonSpec: Sendable, Equatable, Codable {
    /// What the mount serves.
    public enum Source: String, Sendable, Codable {
        /// The RFC v2 tree of the selected providers over the software model.
        case plain
        /// A guest's paths under a sysroot.
        case sysroot
        /// A real guest kernel's interfaces under ``DaemonSpec/kernelRoot``.
        case kernel
    }

    public var source: Source
    /// The mount point (a sysroot's root for ``Source/sysroot``).
    public var mountpoint: String
    public var kernelRoot = "/"
    /// `--provider` names and `--config`.
    public var providers: [String] = []
    public var config: String?
    /// `--guest` (nil: the catalogue's first), `--seed`, the guest's own options.
    public var guest: String?
    public var seed: String?
    public var options = GuestOptionValues()
    /// `--kernel` as given (nil: the newest modelled) and `--no-unified`.
    public var kernel: String?
    public var unified = true
    /// `--inject-fault` specs, as `FaultSpec.text`.
    public var faults: [String] = []
    public var state: String?
    /// swift-log's level name.
    public var logLevel = "notice"
    public var daemon = DaemonConfiguration()

    public init(source: Source, mountpoint: String) {
        self.source = source
        self.mountpoint = mountpoint
    }

    /// Why a spec cannot be served; the description is the user's message.
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    /// The guest ``guest`` names, or the catalogue's first.
    public func definition(in guests: GuestCatalogue) throws(Refusal) -> any GuestDefinition.Type {
        guard let name = guest else { return guests.defaultGuest }
        guard let guest = guests.named(name) else {
            throw Refusal(description: "unknown guest '\(name)'; known: \(guests.list)")
        }
        return guest
    }

    /// The release of ``kernel``, or the newest modelled.
    public func release() throws(Refusal) -> KernelRelease {
        guard let kernel else { return .newest }
        do {
            return try KernelRelease.parse(kernel)
        } catch {
            throw Refusal(description: error.description)
        }
    }

    /// Refuses guest options the guest does not take or cannot have, and a release that lacks
    /// what they ask for: what `--help` users see before anything starts.
    public func checkGuest(in guests: GuestCatalogue) throws(Refusal) {
        let guest = try definition(in: guests)
        do {
            try guests.check(options, for: guest)
        } catch {
            throw Refusal(description: error.description)
        }
        let probe = GuestSpec(guest: guest, options: options, providers: [], kernel: try release())
        if let refusal = probe.kernelRefusal { throw Refusal(description: refusal.description) }
    }

    /// Parse -> **assemble** -> serve: what this spec serves, every register a face needs
    /// resolved, or a clear refusal.
    public func assemble(
        guests: GuestCatalogue, log: @escaping Assembly.Log,
        kernelLog: @escaping KernelLog, errorLog: Assembly.Log? = nil
    ) throws(Refusal) -> Served {
        do {
            switch source {
            case .kernel:
                // Before anything is mounted: a host without the interfaces is refused here.
                return try Assembly.kernel(root: kernelRoot, guests: guests, log: kernelLog)
            case .plain:
                return try Assembly.plain(
                    try selection(guests, defaults: guests.plainProviders), state: state, log: log)
            case .sysroot:
                let guest = try definition(in: guests)
                var faults: [FaultSpec] = []
                for text in self.faults {
                    guard let fault = FaultSpec(parsing: text) else {
                        throw Refusal(description: "--inject-fault \(text): malformed")
                    }
                    faults.append(fault)
                }
                let spec = GuestSpec(
                    guest: guest, seed: seed ?? MockSeed.default, options: options,
                    providers: try selection(guests, defaults: guests.sysrootProviders(guest)),
                    faults: faults, kernel: try release(), unified: unified)
                return try Assembly.sysroot(spec, state: state, log: log, errorLog: errorLog)
            }
        } catch let error as AssemblyError {
            throw Refusal(description: error.description)
        } catch let error as Refusal {
            throw error
        } catch {
            throw Refusal(description: "\(error)")
        }
    }

    private func selection(_ guests: GuestCatalogue, defaults: [ProviderDescriptor]) throws(Refusal)
        -> [ProviderDescriptor]
    {
        do {
            return try ProviderSelection.descriptors(
                named: providers, config: config, defaults: defaults,
                catalogue: guests.providerCatalogue)
        } catch {
            throw Refusal(description: error.description)
        }
    }
}

extension DaemonSpec {
    /// The most a spec file may hold.
    public static let maximumSize = 1 << 20

    /// The spec as JSON.
    public func encoded() throws(Refusal) -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(self))
        } catch {
            throw Refusal(description: "cannot encode the daemon spec: \(error)")
        }
    }

    /// The spec in the file at `path` (at most ``maximumSize`` bytes), as ``encoded()`` wrote it.
    public static func read(_ path: String) throws(Refusal) -> DaemonSpec {
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(path: path, limit: maximumSize)
        } catch {
            throw Refusal(description: "\(path): cannot read the daemon spec: \(error)")
        }
        do {
            return try JSONDecoder().decode(DaemonSpec.self, from: Data(bytes))
        } catch {
            throw Refusal(description: "\(path): not a daemon spec: \(error)")
        }
    }
}
