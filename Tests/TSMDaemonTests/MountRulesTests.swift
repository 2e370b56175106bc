import Testing
import TSMDaemon

@Suite("mount: the rules between options")
struct MountRulesTests {
    /// A request that breaks no rule: a plain mount on MOUNTPOINT by root.
    static let plain = MountRequest(mountpoint: "/mnt/tsm")
    static let guest = MountRequest(sysroot: "/tmp/guest")

    static func check(_ request: MountRequest, userAllowOther: Bool = false) -> String? {
        MountRules.check(request, userAllowOther: { userAllowOther })?.description
    }

    @Test("a plain mount, a sysroot and a kernel mount pass")
    func passing() {
        #expect(Self.check(Self.plain) == nil)
        var guest = Self.guest
        guest.injectsFaults = true
        guest.state = "/tmp/state"
        guest.selectsProviders = true
        guest.guestOptions = ["--guest", "--kernel"]
        #expect(Self.check(guest) == nil)
        #expect(Self.check(MountRequest(mountpoint: "/mnt/tsm", kernelBackend: true)) == nil)
    }

    @Test("exactly one of MOUNTPOINT and --sysroot")
    func mountpointOrSysroot() {
        let message = "give either MOUNTPOINT or --sysroot DIR"
        #expect(Self.check(MountRequest()) == message)
        #expect(Self.check(MountRequest(mountpoint: "/mnt/tsm", sysroot: "/tmp/guest")) == message)
        // Reported first, before anything else the line breaks.
        #expect(
            Self.check(MountRequest(kernelBackend: true, state: "/s", injectsFaults: true, allowOther: true, uid: 1000))
                == message)
    }

    @Test("--allow-other: root, or an ordinary user with user_allow_other; fuse.conf asked only then")
    func allowOther() {
        let message =
            "--allow-other needs root, or user_allow_other in /etc/fuse.conf (fusermount3 refuses it otherwise)"
        var request = Self.plain
        request.allowOther = true
        var asked = 0
        #expect(
            MountRules.check(
                request,
                userAllowOther: {
                    asked += 1; return false
                }) == nil)
        #expect(asked == 0)
        request.uid = 1000
        #expect(Self.check(request) == message)
        #expect(Self.check(request, userAllowOther: true) == nil)
        request.allowOther = false
        #expect(
            MountRules.check(
                request,
                userAllowOther: {
                    asked += 1; return false
                }) == nil)
        #expect(asked == 0)
    }

    @Test("--backend kernel: no --sysroot, --state, --provider or --config")
    func kernel() {
        #expect(
            Self.check(MountRequest(sysroot: "/tmp/guest", kernelBackend: true))
                == "--backend kernel serves a MOUNTPOINT, not a --sysroot")
        #expect(
            Self.check(MountRequest(mountpoint: "/m", kernelBackend: true, state: "/tmp/state"))
                == "--state keeps a software model's registers; with --backend kernel the kernel keeps them")
        #expect(
            Self.check(MountRequest(mountpoint: "/m", kernelBackend: true, selectsProviders: true))
                == "--backend kernel serves the guest's own provider; --provider and --config do not apply")
        // Without the kernel backend these are a software mount's options.
        #expect(Self.check(MountRequest(mountpoint: "/m", state: "/tmp/state", selectsProviders: true)) == nil)
    }

    @Test("--inject-fault and the guest options need --sysroot")
    func sysrootOnly() {
        var request = Self.plain
        request.injectsFaults = true
        #expect(Self.check(request) == "--inject-fault needs --sysroot")
        request.injectsFaults = false
        request.guestOptions = ["--kernel", "--guest"]
        #expect(Self.check(request) == "--kernel shapes a guest sysroot: it needs --sysroot DIR")
        #expect(MountRules.check(request, userAllowOther: { false }) == .guestOptionWithoutSysroot("--kernel"))
    }
}
