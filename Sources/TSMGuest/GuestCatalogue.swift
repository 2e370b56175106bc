import TSMBackends
import TSMModel

/// The guests a command knows, in order: the list `Guests.catalogue` gives (or a test's, with a
/// toy guest added). Everything that depends on which guests exist is asked of it.
public struct GuestCatalogue: Sendable {
    public let guests: [any GuestDefinition.Type]

    /// `guests` in order; the first is the default of `--guest`. A list, never empty.
    public init(_ guests: [any GuestDefinition.Type]) {
        self.guests = guests
    }

    /// The guest `--guest` defaults to: the first of the list.
    public var defaultGuest: any GuestDefinition.Type { guests[0] }

    /// The guest named `name` (`--guest`), or nil.
    public func named(_ name: String) -> (any GuestDefinition.Type)? {
        guests.first { $0.name == name }
    }

    public var names: [String] { guests.map { $0.name } }

    /// The names as a sentence: "tdx, sev-snp or cca".
    public var list: String { Self.alternatives(names) }

    /// The guests whose verifiers take collateral (`tsmfs collateral`), in catalogue order.
    public var collateralGuests: [any GuestDefinition.Type] { guests.filter { $0.verification.collateral } }

    /// The guests whose `tsmfs verify` takes `input`, as a sentence ("tdx or sev-snp").
    public func takers(_ input: KeyPath<VerificationInputs, Bool>) -> String {
        Self.alternatives(guests.filter { $0.verification[keyPath: input] }.map { $0.name })
    }

    /// Every guest's ``GuestDefinition/verificationSummary``, in catalogue order.
    public var verificationSummaries: String { guests.map { $0.verificationSummary }.joined(separator: " ") }

    /// Every guest's ``GuestDefinition/trustAnchorSummary``, in catalogue order.
    public var trustAnchorSummaries: String { guests.map { $0.trustAnchorSummary }.joined(separator: " ") }

    /// Every guest's ``GuestDefinition/certificatesSummary``, in catalogue order.
    public var certificatesSummaries: String { guests.compactMap { $0.certificatesSummary }.joined(separator: " ") }

    /// Every guest's ``GuestDefinition/collateralSummary``, in catalogue order.
    public var collateralSummaries: String { guests.compactMap { $0.collateralSummary }.joined(separator: " ") }

    /// What a plain mount serves by default: the guests' providers that it serves and the RFC v2
    /// sample, by name.
    public var plainProviders: [ProviderDescriptor] {
        (guests.filter { $0.servedByDefault }.map { $0.provider } + [BuiltinProviders.measurementExample])
            .sorted { $0.name < $1.name }
    }

    /// What a sysroot of `guest` serves under `sys/kernel/tsm` by default: the plain mount's
    /// providers, and the guest's own where they lack it.
    public func sysrootProviders(_ guest: any GuestDefinition.Type) -> [ProviderDescriptor] {
        var providers = plainProviders
        if !providers.contains(where: { $0.name == guest.provider.name }) { providers.append(guest.provider) }
        return providers
    }

    /// Every built-in table by name (`--provider NAME` picks among them).
    public var providerCatalogue: [ProviderDescriptor] {
        var all = plainProviders
        for guest in guests where !all.contains(where: { $0.name == guest.provider.name }) {
            all.append(guest.provider)
        }
        return all + [BuiltinProviders.tsmMrSample]
    }

    /// The help of the guest option `name` (as the first guest that takes it words it).
    public func option(_ name: String) -> GuestOption {
        guests.lazy.flatMap { $0.options }.first { $0.name == name } ?? GuestOption(name, "")
    }

    /// The guests that take `option`, by name.
    public func owners(of option: String) -> [String] {
        guests.filter { $0.options.contains { $0.name == option } }.map { $0.name }
    }

    /// Refuses guest options `guest` does not take, naming the guests that do, then values it
    /// cannot have.
    public func check(_ values: GuestOptionValues, for guest: any GuestDefinition.Type) throws(GuestOptionError) {
        for option in values.names where !guest.options.contains(where: { $0.name == option }) {
            throw GuestOptionError("\(option) needs --guest \(Self.alternatives(owners(of: option)))")
        }
        try guest.validate(values)
    }

    /// Every kernel ABI element: configfs-tsm's own, then each guest's.
    public var kernelFeatures: [KernelFeature] {
        var all = KernelFeature.common
        for guest in guests {
            for feature in guest.kernelFeatures where !all.contains(feature) { all.append(feature) }
        }
        return all.sorted { $0.release < $1.release }
    }

    /// "a", "a or b", "a, b or c".
    public static func alternatives(_ words: [String]) -> String {
        guard let last = words.last else { return "" }
        return words.count == 1 ? last : words.dropLast().joined(separator: ", ") + " or " + last
    }
}

/// The values of the guest options given on a command line, in the order given, by long name
/// with the dashes (`--svsm` -> "", `--tdx-module` -> "1.5"). Only given options are present.
public struct GuestOptionValues: Sendable, Equatable, Codable {
    public private(set) var pairs: [Pair]

    public struct Pair: Sendable, Equatable, Codable {
        public let name: String
        public let value: String
    }

    public init() { pairs = [] }

    /// Records `name` with `value` (a flag's value is "").
    public mutating func set(_ name: String, _ value: String = "") {
        pairs.removeAll { $0.name == name }
        pairs.append(Pair(name: name, value: value))
    }

    public var names: [String] { pairs.map(\.name) }

    public subscript(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    public func has(_ name: String) -> Bool { self[name] != nil }
}

/// A guest option refused: the message names the option and what is wrong.
public struct GuestOptionError: Error, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
