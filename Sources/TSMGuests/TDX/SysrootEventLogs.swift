import TSMEventLog
import TSMGuest

/// A TDX sysroot's event logs as `tsmfs log` reads them: the CCEL table, its log area and the
/// runtime log, at their paths under the sysroot (``EventLogPaths``).
public enum SysrootEventLogs {
    /// Why the logs of a sysroot cannot be shown; the description is the user-facing message.
    public enum Failure: Error, CustomStringConvertible {
        case unreadable(ProviderSelection.Failure)
        case undecodable(sysroot: String, EventLogError)

        public var description: String {
            switch self {
            case .unreadable(let failure): failure.description
            case .undecodable(let root, let error): "\(root): the event logs do not decode: \(error)"
            }
        }
    }

    /// Reads and decodes the three files under `root`.
    public static func read(sysroot root: String) throws(Failure) -> EventLogFiles {
        let table: [UInt8], area: [UInt8], runtime: [UInt8]
        do throws(ProviderSelection.Failure) {
            table = try ProviderSelection.readFile(root + "/" + EventLogPaths.ccelTable)
            area = try ProviderSelection.readFile(root + "/" + EventLogPaths.ccelData)
            runtime = try ProviderSelection.readFile(root + "/" + EventLogPaths.runtimeLog)
        } catch {
            throw .unreadable(error)
        }
        do throws(EventLogError) {
            return try EventLogFiles(table: table, area: area, runtime: runtime)
        } catch {
            throw .undecodable(sysroot: root, error)
        }
    }
}
