import SystemPackage
import TSMModel

/// `tsmfs mount --backend kernel`: what setting up a guest's provider over a real guest kernel
/// gives or fails with. Which guest the kernel is, and how its provider is read, is each guest's
/// own (its definition's `KernelInterface`).
public enum KernelGuestSetup {
    /// Why no provider could be set up: the message names what was looked for or what failed.
    public enum Failure: Error, CustomStringConvertible {
        /// No interface exists under the root; `looked` names each place looked for.
        case noInterface(root: String, looked: String)
        /// An interface exists but could not be used.
        case unusable(String)

        public var description: String {
            switch self {
            case .noInterface(let root, let looked):
                return "no confidential-computing interface under \(root): looked for \(looked)"
            case .unusable(let reason): return reason
            }
        }
    }

    /// The guest found under a root and its provider.
    public struct Found {
        public let provider: MeasurementProvider
        /// A phrase for the daemon's one line: which interface serves it.
        public let summary: String

        public init(provider: MeasurementProvider, summary: String) {
            self.provider = provider
            self.summary = summary
        }
    }

    /// `descriptor` registered over `backend`, or why not.
    public static func register(_ descriptor: ProviderDescriptor, _ backend: any MeasurementBackend) throws(Failure)
        -> MeasurementProvider
    {
        do {
            return try MeasurementProvider(descriptor, backend: backend)
        } catch {
            throw .unusable("cannot register the \(descriptor.name) provider: \(error)")
        }
    }
}
