/// A mainline Linux release (`MAJOR.MINOR`) whose guest attestation ABI a sysroot shows
/// (`--kernel`). What each release has is read from the ``KernelFeature``s of
/// configfs-tsm and of each guest.
public struct KernelRelease: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int

    public init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// The releases tsmfs models: configfs-tsm's first, the LTS releases, and each release that
    /// changed what a guest client sees.
    public static let modelled: [KernelRelease] = [
        KernelRelease(6, 7), KernelRelease(6, 8), KernelRelease(6, 11), KernelRelease(6, 12),
        KernelRelease(6, 13), KernelRelease(6, 16), KernelRelease(6, 18), KernelRelease(7, 0),
    ]

    /// The default: the newest modelled release.
    public static var newest: KernelRelease { modelled.last ?? KernelRelease(7, 0) }

    public var description: String { "\(major).\(minor)" }

    public static func < (lhs: KernelRelease, rhs: KernelRelease) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    /// Why a `--kernel` value or a combination with it cannot be served.
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        /// Not `MAJOR.MINOR`, or a release tsmfs does not model.
        case unknown(String)
        /// A release before configfs-tsm.
        case predatesReports(KernelRelease)
        /// The release lacks what an option asks for.
        case lacks(KernelFeature, option: String, release: KernelRelease)

        public var description: String {
            let known = KernelRelease.modelled.map(\.description).joined(separator: ", ")
            switch self {
            case .unknown(let text):
                return "unknown kernel release '\(text)'; known: \(known)"
            case .predatesReports(let release):
                let feature = KernelFeature.configfsTSMReport
                return "Linux \(release) has no \(feature.summary): it arrived in Linux \(feature.release) "
                    + "(commit \(feature.commit)); known: \(known)"
            case .lacks(let feature, let option, let release):
                return "--kernel \(release) \(option): Linux \(release) has no \(feature.summary); "
                    + "it arrived in Linux \(feature.release) (commit \(feature.commit))"
            }
        }
    }

    /// A `--kernel` value: a modelled `MAJOR.MINOR` (at most 16 characters).
    public static func parse(_ text: String) throws(Refusal) -> KernelRelease {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard text.utf8.count <= 16, parts.count == 2,
            parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { ("0"..."9").contains($0) } }),
            let major = Int(parts[0]), let minor = Int(parts[1])
        else {
            throw .unknown(text)
        }
        let release = KernelRelease(major, minor)
        if !release.has(.configfsTSMReport) { throw .predatesReports(release) }
        guard modelled.contains(release) else { throw .unknown(text) }
        return release
    }
}
