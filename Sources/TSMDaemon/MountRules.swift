import FuseKit
/// What a `tsmfs mount` command line asks for, as far as the rules between its options go:
/// which options were given, not their parsed values.
public struct MountRequest: Sendable, Equatable {
    /// The MOUNTPOINT argument, if given.
    public var mountpoint: String?
    /// `--sysroot DIR`, if given.
    public var sysroot: String?
    /// `--backend kernel` (rather than the software model).
    public var kernelBackend: Bool
    /// `--state FILE`, if given.
    public var state: String?
    /// Whether `--provider` or `--config` was given.
    public var selectsProviders: Bool
    /// Whether `--inject-fault` was given.
    public var injectsFaults: Bool
    /// The guest-shaping options given, by name (`--guest`, `--kernel`, ...), first given first.
    public var guestOptions: [String]
    /// `--allow-other`.
    public var allowOther: Bool
    /// The real user id the daemon runs as.
    public var uid: UInt32

    public init(
        mountpoint: String? = nil, sysroot: String? = nil, kernelBackend: Bool = false, state: String? = nil,
        selectsProviders: Bool = false, injectsFaults: Bool = false, guestOptions: [String] = [],
        allowOther: Bool = false, uid: UInt32 = 0
    ) {
        self.mountpoint = mountpoint
        self.sysroot = sysroot
        self.kernelBackend = kernelBackend
        self.state = state
        self.selectsProviders = selectsProviders
        self.injectsFaults = injectsFaults
        self.guestOptions = guestOptions
        self.allowOther = allowOther
        self.uid = uid
    }
}

/// An option, or a pair of options, that a mount cannot be given; its description is the message
/// the command line prints.
public enum MountRuleViolation: Error, Sendable, Equatable, CustomStringConvertible {
    /// Neither or both of MOUNTPOINT and `--sysroot`.
    case mountpointOrSysroot
    /// `--allow-other` by an ordinary user without `user_allow_other` in /etc/fuse.conf.
    case allowOtherRefused
    case kernelWithSysroot
    case kernelWithState
    case kernelWithProviders
    case faultsWithoutSysroot
    /// A guest-shaping option (named) on a mount that serves no guest sysroot.
    case guestOptionWithoutSysroot(String)

    public var description: String {
        switch self {
        case .mountpointOrSysroot: "give either MOUNTPOINT or --sysroot DIR"
        case .allowOtherRefused:
            "--allow-other needs root, or user_allow_other in /etc/fuse.conf (fusermount3 refuses it otherwise)"
        case .kernelWithSysroot: "--backend kernel serves a MOUNTPOINT, not a --sysroot"
        case .kernelWithState: "--state keeps a software model's registers; with --backend kernel the kernel keeps them"
        case .kernelWithProviders:
            "--backend kernel serves the guest's own provider; --provider and --config do not apply"
        case .faultsWithoutSysroot: "--inject-fault needs --sysroot"
        case .guestOptionWithoutSysroot(let option): "\(option) shapes a guest sysroot: it needs --sysroot DIR"
        }
    }
}

/// The rules between a mount's options, checked before anything is assembled or mounted.
public enum MountRules {
    /// The first rule `request` breaks, in the order the command line reports them, or nil.
    /// `userAllowOther` (whether /etc/fuse.conf lets ordinary users use allow_other) is asked only
    /// when an ordinary user asks for `--allow-other`; by default /etc/fuse.conf is read as
    /// fusermount3 reads it.
    public static func check(
        _ request: MountRequest,
        userAllowOther: () -> Bool = { (try? FuseConfiguration.read())?.userAllowOther ?? false }
    )
        -> MountRuleViolation?
    {
        guard (request.mountpoint == nil) != (request.sysroot == nil) else { return .mountpointOrSysroot }
        if request.allowOther && request.uid != 0 && !userAllowOther() { return .allowOtherRefused }
        if request.kernelBackend && request.sysroot != nil { return .kernelWithSysroot }
        if request.kernelBackend && request.state != nil { return .kernelWithState }
        if request.kernelBackend && request.selectsProviders { return .kernelWithProviders }
        if request.injectsFaults && request.sysroot == nil { return .faultsWithoutSysroot }
        if request.sysroot == nil, let option = request.guestOptions.first { return .guestOptionWithoutSysroot(option) }
        return nil
    }
}
