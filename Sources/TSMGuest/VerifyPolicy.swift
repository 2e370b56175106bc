import TSMEvidence

/// The relying party's policy `tsmfs verify` applies once the evidence's signatures and chain
/// have verified: each guest's ``GuestDefinition/verify(_:)`` checks what its format carries,
/// reading its own policy flags (``GuestDefinition/policyOptions``) from ``values``. The default
/// refuses a debug guest (and each guest's own defaults: a CCA platform outside the secured
/// lifecycle); ``none`` skips it, as a verifier without a policy.
public struct VerifyPolicy: Sendable, Equatable {
    /// Accept a debug guest (`--allow-debug`; each guest knows where its debug bit is).
    public var allowDebug = false
    /// The guest's own policy flags as given, by name (`--min-tcb`, `--signing-key`, ...).
    public var values = GuestOptionValues()
    /// False for `--no-policy`: signatures, chain and report data only.
    public var enforced = true

    /// The default: no debug, each guest's defaults.
    public static let `default` = VerifyPolicy()
    /// No policy at all: what a verifier that checks only signatures accepts.
    public static let none = VerifyPolicy(allowDebug: true, enforced: false)

    public init(allowDebug: Bool = false, values: GuestOptionValues = GuestOptionValues(), enforced: Bool = true) {
        self.allowDebug = allowDebug
        self.values = values
        self.enforced = enforced
    }

    /// A refusal naming `field` and its value: "policy: FIELD is VALUE: WHY".
    public static func refusal(_ field: String, _ value: String, _ why: String) -> EvidenceError {
        .failed(.policy, reason: "\(field) is \(value): \(why)")
    }

    /// A policy value its guest's parser refused, as an evidence error (the command line refuses
    /// it earlier, through ``GuestCatalogue/checkPolicy(_:for:)``).
    public static func badValue(_ error: GuestOptionError) -> EvidenceError {
        .invalidInput(field: "policy", reason: error.description)
    }
}

extension GuestCatalogue {
    /// Refuses `tsmfs verify` policy flags `guest` does not take, naming the guests that do, then
    /// values it cannot have.
    public func checkPolicy(_ values: GuestOptionValues, for guest: any GuestDefinition.Type) throws(GuestOptionError) {
        for option in values.names where !guest.policyOptions.contains(where: { $0.name == option }) {
            let owners = guests.filter { $0.policyOptions.contains { $0.name == option } }.map { $0.name }
            throw GuestOptionError("\(option) is for --guest \(Self.alternatives(owners))")
        }
        try guest.validatePolicy(values)
    }

    /// The help of the policy flag `name`: each guest's that takes it, prefixed with its name.
    public func policyOption(_ name: String) -> GuestOption {
        let owners = guests.compactMap { guest in guest.policyOptions.first { $0.name == name }.map { (guest.name, $0) }
        }
        let text = owners.map { "\($0.0): \($0.1.help)" }.joined(separator: " ")
        return GuestOption(name, value: owners.first?.1.valueName, "Policy. " + text)
    }
}
