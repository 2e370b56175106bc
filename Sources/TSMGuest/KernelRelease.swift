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

    /// The releases tsmfs models: each release that changed what a guest client sees, and the
    /// LTS releases. Before configfs-tsm (6.7): 5.19 (`/dev/sev-guest`), 6.1 (LTS; the SNP
    /// certificate sizing call returns 0), 6.2 (`/dev/tdx_guest`), 6.3 (the sizing call fails
    /// again) and 6.6 (LTS, the last without configfs-tsm); docs/DECISIONS.md, issue 25.
    public static let modelled: [KernelRelease] = [
        KernelRelease(5, 19), KernelRelease(6, 1), KernelRelease(6, 2), KernelRelease(6, 3), KernelRelease(6, 6),
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
        /// Not in ``KernelRelease/grammar``.
        case malformed(String)
        /// A release tsmfs does not model.
        case unknown(String)
        /// `MAJOR.MINOR.PATCH`: a stable release, whose backports are not modelled.
        case patchLevel(String, KernelRelease)
        /// A release before the oldest modelled one (5.19, the first guest attestation device).
        case predatesModelled(KernelRelease)
        /// The release lacks what an option asks for.
        case lacks(KernelFeature, option: String, release: KernelRelease)
        /// The release has an element that replaced what an option asks for; `last` is the newest
        /// modelled release without it.
        case superseded(KernelFeature, option: String, release: KernelRelease, last: KernelRelease)

        public var description: String {
            let known = KernelRelease.modelled.map(\.description).joined(separator: ", ")
            switch self {
            case .malformed(let text):
                return "kernel release '\(text)' is not \(KernelRelease.grammar); known: \(known)"
            case .unknown(let text):
                return "unknown kernel release '\(text)'; known: \(known)"
            case .patchLevel(let text, let release):
                return "kernel release '\(text)' has a patch level; give \(release) (MAJOR.MINOR): stable "
                    + "releases backport errno changes that are not modelled; known: \(known)"
            case .predatesModelled(let release):
                let oldest = KernelRelease.modelled.first ?? release
                return "Linux \(release) is older than every modelled release: the oldest, \(oldest), is the "
                    + "first with a guest attestation interface (`tsmfs kernels --elements`); known: \(known)"
            case .lacks(let feature, let option, let release):
                return "--kernel \(release) \(option): Linux \(release) has no \(feature.summary); "
                    + "it arrived in Linux \(feature.release) (commit \(feature.commit))"
            case .superseded(let feature, let option, let release, let last):
                return "--kernel \(release) \(option): Linux \(release) has \(feature.summary), which replaced "
                    + "what \(option) serves (Linux \(feature.release), commit \(feature.commit)); the newest "
                    + "release without it is \(last)"
            }
        }
    }

    /// The one grammar of a `--kernel` value, for `--help` and refusals.
    public static let grammar = "MAJOR.MINOR, decimal numbers without leading zeros (6.16)"

    /// A `--kernel` value (at most 16 characters) in ``grammar`` naming a modelled release. A
    /// patch level (`6.16.3`) is refused with its own reason: stable releases backport fixes
    /// that change errnos, and those are not modelled (docs/DECISIONS.md, issue 16).
    public static func parse(_ text: String) throws(Refusal) -> KernelRelease {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let numbers = parts.map { part -> Int? in
            guard (1...5).contains(part.count), part.allSatisfy({ ("0"..."9").contains($0) }),
                part == "0" || part.first != "0"
            else { return nil }
            return Int(part)
        }
        guard text.utf8.count <= 16, (2...3).contains(numbers.count), let major = numbers[0], let minor = numbers[1]
        else {
            throw .malformed(text)
        }
        guard numbers.count == 2 else {
            guard numbers[2] != nil else { throw .malformed(text) }
            throw .patchLevel(text, KernelRelease(major, minor))
        }
        let release = KernelRelease(major, minor)
        if let oldest = modelled.first, release < oldest { throw .predatesModelled(release) }
        guard modelled.contains(release) else { throw .unknown(text) }
        return release
    }
}
