import TSMBackends
import TSMModel
import TSMTree

/// A guest's interfaces on a real guest kernel (`tsmfs mount --backend kernel`): served as its
/// RFC v2 provider, the registers read from the kernel.
public protocol KernelInterface {
    /// An interface of its own beside configfs-tsm, relative to the kernel root, and how a message
    /// names it ("TDX, Linux 6.16+"); nil when it has none.
    static var direct: (path: String, label: String)? { get }
    /// The provider over the direct interface, which exists under `root`.
    static func fromDirect(root: String, log: @escaping KernelLog) throws(KernelGuestSetup.Failure)
        -> KernelGuestSetup.Found
    /// The provider over configfs-tsm reports of the guest's report provider.
    static func fromReports(
        _ client: ConfigfsReportClient, root: String,
        log: @escaping KernelLog
    ) throws(KernelGuestSetup.Failure) -> KernelGuestSetup.Found
}

extension KernelInterface {
    public static var direct: (path: String, label: String)? { nil }

    public static func fromDirect(root: String, log: @escaping KernelLog) throws(KernelGuestSetup.Failure)
        -> KernelGuestSetup.Found
    {
        throw .unusable("\(root): no direct interface")
    }
}

extension Assembly {
    /// `--backend kernel`: the guest the kernel under `root` is, served as its RFC v2 provider.
    /// Looked for in order: each guest's direct interface, then configfs-tsm, whose probe entry's
    /// `provider` names the guest.
    public static func kernel(root: String, guests: GuestCatalogue, log: @escaping KernelLog) throws(AssemblyError)
        -> Served
    {
        do {
            let found = try detect(root: root, guests: guests, log: log)
            return Served(tree: RFCv2Layout.tree([found.provider]), operations: nil, summary: found.summary)
        } catch {
            throw .kernel(error)
        }
    }

    public static func detect(root: String, guests: GuestCatalogue, log: @escaping KernelLog) throws(KernelGuestSetup
        .Failure)
        -> KernelGuestSetup.Found
    {
        let base = root.hasSuffix("/") ? root : root + "/"
        let interfaces = guests.guests.compactMap { guest in guest.kernelInterface.map { (guest, $0) } }
        for (_, interface) in interfaces {
            if let direct = interface.direct, KernelFiles.exists(base + direct.path) {
                return try interface.fromDirect(root: base, log: log)
            }
        }
        let reportDirectory = base + ConfigfsReportClient.relativePath
        guard KernelFiles.exists(reportDirectory) else {
            let looked = interfaces.compactMap { $0.1.direct.map { "\(base + $0.path) (\($0.label))" } }
            let titles = GuestCatalogue.alternatives(interfaces.map { $0.0.title })
            throw .noInterface(
                root: root,
                looked: (looked + ["\(reportDirectory) (configfs-tsm, \(titles))"]).joined(separator: " and "))
        }
        let client = ConfigfsReportClient(directory: reportDirectory, log: log)
        let name: String
        do {
            name = try client.providerName()
        } catch {
            throw .unusable("\(reportDirectory): cannot probe the report provider: \(error)")
        }
        guard let (_, interface) = interfaces.first(where: { $0.0.reportProviderName == name }) else {
            let known = interfaces.map { $0.0.reportProviderName }.joined(separator: ", ")
            throw .unusable("\(reportDirectory): provider '\(name)' is not supported (\(known))")
        }
        return try interface.fromReports(client, root: base, log: log)
    }
}
