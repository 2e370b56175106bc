import Foundation
import Glibc
import Testing
import TestSupport

/// What one Linux release shows to a guest client, written out by hand from the kernel history
/// (docs/DECISIONS.md, "--kernel VERSION"), not derived from tsmfs's table.
struct ReleaseView: CustomTestStringConvertible, Sendable {
    var version: String
    /// 6.7: configfs-tsm reports (`sys/kernel/config/tsm/report`); before, devices only.
    var configfs = true
    /// 6.2: `/dev/tdx_guest`; before, no TDX guest at all.
    var tdxDevice = true
    /// 6.16: tsm-mr `measurements/` under tdx_guest, and the tsm_mr_sample device.
    var tsmMR: Bool
    /// 6.11: SVSM attestation (service attributes, manifestblob) and the VMPCK privlevel_floor.
    var svsm: Bool

    var testDescription: String { "Linux \(version)" }

    static let modelled: [ReleaseView] = [
        ReleaseView(version: "5.19", configfs: false, tdxDevice: false, tsmMR: false, svsm: false),
        ReleaseView(version: "6.1", configfs: false, tdxDevice: false, tsmMR: false, svsm: false),
        ReleaseView(version: "6.2", configfs: false, tsmMR: false, svsm: false),
        ReleaseView(version: "6.3", configfs: false, tsmMR: false, svsm: false),
        ReleaseView(version: "6.6", configfs: false, tsmMR: false, svsm: false),
        ReleaseView(version: "6.7", tsmMR: false, svsm: false),
        ReleaseView(version: "6.8", tsmMR: false, svsm: false),
        ReleaseView(version: "6.11", tsmMR: false, svsm: true),
        ReleaseView(version: "6.12", tsmMR: false, svsm: true),
        ReleaseView(version: "6.13", tsmMR: false, svsm: true),
        ReleaseView(version: "6.16", tsmMR: true, svsm: true),
        ReleaseView(version: "6.18", tsmMR: true, svsm: true),
        ReleaseView(version: "7.0", tsmMR: true, svsm: true),
    ]

    static let tdxAttributes = ["generation", "inblob", "outblob", "provider"]
    static let sevAttributes = [
        "auxblob", "generation", "inblob", "outblob", "privlevel", "privlevel_floor", "provider",
    ]
    static let svsmAttributes =
        (sevAttributes + ["manifestblob", "service_guid", "service_manifest_version", "service_provider"]).sorted()
    static let tdxMeasurements = [
        "mrconfigid", "mrowner", "mrownerconfig", "mrtd:sha384",
        "rtmr0:sha384", "rtmr1:sha384", "rtmr2:sha384", "rtmr3:sha384",
    ]
}

/// Runs `tsmfs ARGS` and returns its status and output (stdout and stderr together).
func tsmfs(_ arguments: String) throws -> ShellResult {
    try shell("'\(tsmfsBinary())' \(arguments) 2>&1")
}

/// One report through a sysroot entry, checked by `tsmfs verify` and the independent verifier.
func verifiedReport(_ mount: MountedTSMFS, entry: String, guest: String) throws -> ShellResult {
    let files = mount.directory
    let auxblob = guest == "tdx" ? "" : "'\(files)/aux'"
    let verifyAux = guest == "tdx" ? "" : "--auxblob '\(files)/aux'"
    return try shell(
        """
        set -e
        head -c 64 /dev/urandom > '\(entry)/inblob'
        cat '\(entry)/outblob' > '\(files)/evidence'
        \(guest == "tdx" ? "" : "cat '\(entry)/auxblob' > '\(files)/aux'")
        '\(tsmfsBinary())' trust-anchor --guest \(guest) > '\(files)/anchor.pem'
        '\(tsmfsBinary())' verify '\(files)/evidence' --guest \(guest) \(verifyAux) --trust-anchor \
        '\(files)/anchor.pem' > /dev/null
        python3 '\(independentVerifier())' \(guest) '\(files)/evidence' \(auxblob) '\(files)/anchor.pem'
        """)
}

/// `--kernel VERSION`: every modelled release, one parameterised table; each face shows what
/// the release shows and nothing it lacks.
@Suite("--kernel: the guest ABI of each modelled release", .needsMount)
struct KernelReleaseTests {
    func list(_ path: String) -> [String]? {
        (try? FileManager.default.contentsOfDirectory(atPath: path))?.sorted()
    }

    @Test(
        "TDX: RFC v2 conformance, measurements only from 6.16, /dev/tdx_guest and the class link, quotes from 6.7",
        arguments: ReleaseView.modelled.filter(\.tdxDevice))
    func tdx(_ release: ReleaseView) throws {
        let mount = try MountedTSMFS(["--guest", "tdx", "--kernel", release.version], sysroot: true)
        defer { #expect(mount.stop() == 0, "\(mount.log)") }
        RFCv2Conformance(root: mount.path("sys/kernel/tsm"), files: RFCv2Conformance.builtinFiles).run()
        let misc = mount.path("sys/devices/virtual/misc")
        #expect(list(misc + "/tdx_guest/measurements") == (release.tsmMR ? ReleaseView.tdxMeasurements : nil))
        #expect(list(misc) == (release.tsmMR ? ["tdx_guest", "tsm_mr_sample"] : ["tdx_guest"]))
        #expect(Sys.stat(misc + "/tdx_guest").value.map { $0.st_mode & S_IFMT } == S_IFDIR)
        #expect(
            (try? FileManager.default.destinationOfSymbolicLink(atPath: mount.path("sys/class/misc/tdx_guest")))
                == "../../devices/virtual/misc/tdx_guest")
        // The TDREPORT ioctl, whatever the release.
        let ioctl = try shell(
            """
            python3 - '\(mount.path("dev/tdx_guest"))' <<'PY'
            import fcntl, sys
            req = bytearray(range(64)) + bytearray(1024)
            with open(sys.argv[1], "rb+", buffering=0) as f:
                fcntl.ioctl(f, 0xC4405401, req, True)
            assert req[64 + 128:64 + 192] == bytes(range(64)), "REPORTDATA"
            print("tdreport ok")
            PY
            """)
        #expect(ioctl.status == 0 && ioctl.text.contains("tdreport ok"), "\(ioctl.stderr)")
        // Before 6.7 the TDREPORT ioctl is all: no sys/kernel/config at all.
        #expect(list(mount.path("sys/kernel")) == (release.configfs ? ["config", "tsm"] : ["tsm"]))
        guard release.configfs else { return }
        let entry = mount.path("sys/kernel/config/tsm/report/q")
        #expect(mkdir(entry, 0o755) == 0)
        #expect(list(entry) == ReleaseView.tdxAttributes)
        let report = try verifiedReport(mount, entry: entry, guest: "tdx")
        #expect(report.status == 0, "\(report.text) \(report.stderr)")
        #expect(rmdir(entry) == 0)
    }

    @Test(
        "SEV-SNP: exactly the seven attributes, privlevel_floor 0, a verified report; --svsm from 6.11 only",
        arguments: ReleaseView.modelled)
    func sevSNP(_ release: ReleaseView) throws {
        let mount = try MountedTSMFS(["--guest", "sev-snp", "--kernel", release.version], sysroot: true)
        defer { #expect(mount.stop() == 0, "\(mount.log)") }
        #expect(list(mount.path("sys/kernel")) == (release.configfs ? ["config", "tsm"] : ["tsm"]))
        if release.configfs {
            let entry = mount.path("sys/kernel/config/tsm/report/r")
            #expect(mkdir(entry, 0o755) == 0)
            #expect(list(entry) == ReleaseView.sevAttributes)
            #expect(Sys.readFile(entry + "/privlevel_floor").value == Array("0\n".utf8))
            let report = try verifiedReport(mount, entry: entry, guest: "sev-snp")
            #expect(report.status == 0, "\(report.text) \(report.stderr)")
            #expect(rmdir(entry) == 0)
        }
        // sev-guest's misc device (5.19 on) is the only one, /dev/sev-guest its only node.
        #expect(list(mount.path("sys/devices/virtual/misc")) == ["sev-guest"])
        #expect(list(mount.path("dev")) == ["sev-guest"])

        if release.svsm {
            let svsm = try MountedTSMFS(
                ["--guest", "sev-snp", "--svsm", "--privlevel-floor", "1", "--kernel", release.version],
                sysroot: true)
            defer { #expect(svsm.stop() == 0, "\(svsm.log)") }
            let entry = svsm.path("sys/kernel/config/tsm/report/s")
            #expect(mkdir(entry, 0o755) == 0)
            #expect(list(entry) == ReleaseView.svsmAttributes)
            #expect(Sys.readFile(entry + "/privlevel_floor").value == Array("1\n".utf8))
            #expect(rmdir(entry) == 0)
        } else {
            let refused = try tsmfs(
                "mount --sysroot /nonexistent/tsmfs --guest sev-snp --svsm --kernel \(release.version)")
            #expect(refused.status != 0)
            #expect(refused.text.contains("arrived in Linux 6.11"), "\(refused.text)")
            let floor = try tsmfs(
                "mount --sysroot /nonexistent/tsmfs --guest sev-snp --privlevel-floor 1 --kernel \(release.version)")
            #expect(floor.status != 0)
            #expect(floor.text.contains("arrived in Linux 6.11"), "\(floor.text)")
        }
    }

    @Test("--no-unified: no sys/kernel/tsm; the release's own faces stay", arguments: ["6.12", "6.16"])
    func releaseExact(_ version: String) throws {
        let mount = try MountedTSMFS(["--guest", "tdx", "--kernel", version, "--no-unified"], sysroot: true)
        defer { #expect(mount.stop() == 0, "\(mount.log)") }
        #expect(list(mount.path("sys/kernel")) == ["config"])
        #expect(Sys.stat(mount.path("dev/tdx_guest")).value != nil)
        #expect(list(mount.path("sys/kernel/config/tsm")) == ["report"])
        let measurements = Sys.stat(mount.path("sys/devices/virtual/misc/tdx_guest/measurements/rtmr0:sha384")).value
        #expect((measurements != nil) == (version == "6.16"))
    }

    @Test("the default is the newest modelled release: 7.0")
    func defaultRelease() throws {
        let mount = try MountedTSMFS(["--guest", "tdx"], sysroot: true)
        defer { #expect(mount.stop() == 0) }
        #expect(mount.log.contains("of Linux 7.0"), "\(mount.log)")
        #expect(list(mount.path("sys/devices/virtual/misc/tdx_guest/measurements")) == ReleaseView.tdxMeasurements)
    }

    @Test("acceptance: tsmfs exec --kernel 6.12 -- test ! -e .../tdx_guest/measurements exits 0; 6.16 has it")
    func execAcceptance() throws {
        let old = try tsmfs(
            "exec --kernel 6.12 --seed kernel-612 -- test ! -e /sys/devices/virtual/misc/tdx_guest/measurements")
        #expect(old.status == 0, "\(old.text)")
        let device = try tsmfs(
            """
            exec --kernel 6.12 --seed kernel-612b -- sh -c 'test -e /dev/tdx_guest && readlink \
            /sys/class/misc/tdx_guest'
            """
        )
        #expect(device.status == 0 && device.text.contains("../../devices/virtual/misc/tdx_guest"), "\(device.text)")
        let new = try tsmfs(
            """
            exec --kernel 6.16 --seed kernel-616 -- test -e \
            /sys/devices/virtual/misc/tdx_guest/measurements/rtmr0:sha384
            """
        )
        #expect(new.status == 0, "\(new.text)")
    }
}

/// Refusals at start: nothing is mounted, and the message names the release that has it.
@Suite("--kernel refusals")
struct KernelRefusalTests {
    @Test("TDX before /dev/tdx_guest is refused naming 6.2 and its commit; before 5.19 nothing is modelled")
    func beforeDevices() throws {
        for version in ["5.19", "6.1"] {
            let r = try tsmfs("mount --sysroot /nonexistent/tsmfs --guest tdx --kernel \(version)")
            #expect(r.status == 64)
            #expect(
                r.text.contains(
                    "--kernel \(version) --guest tdx: Linux \(version) has no /dev/tdx_guest (TDX_CMD_GET_REPORT0) "
                        + "and sys/class/misc/tdx_guest; it arrived in Linux 6.2 (commit 6c8c1406a6d6)"), "\(r.text)")
        }
        for guest in ["tdx", "sev-snp"] {
            let r = try tsmfs("mount --sysroot /nonexistent/tsmfs --guest \(guest) --kernel 5.15")
            #expect(r.status == 64)
            #expect(r.text.contains("Linux 5.15 is older than every modelled release: the oldest, 5.19"), "\(r.text)")
        }
    }

    @Test("an unknown version, or one outside the grammar (issue 24: 06.16, 6.013, 6.16.0, -1), is a usage error")
    func unknown() throws {
        for version in ["6.0", "6.5", "6.9", "7.1", "six", "6.12.1", "6", "", "06.16", "6.013", "6.16.0", "-1"] {
            let r = try tsmfs("mount --sysroot /nonexistent/tsmfs --kernel '\(version)'")
            #expect(r.status == 64, "\(version): \(r.text)")
            #expect(
                r.text.contains("known: 5.19, 6.1, 6.2, 6.3, 6.6, 6.7, 6.8, 6.11, 6.12, 6.13, 6.16, 6.18, 7.0"),
                "\(version): \(r.text)")
            #expect(!r.text.contains("Missing value"), "\(version): \(r.text)")
        }
        let help = try tsmfs("mount --help")
        #expect(help.text.contains("MAJOR.MINOR"), "\(help.text)")
    }

    @Test("issue 24: a misspelt option with a value is named, with the likely one, before the mount rules")
    func misspeltOption() throws {
        let r = try tsmfs("mount --sysroot /nonexistent/tsmfs --guset tdx")
        #expect(r.status == 64, "\(r.text)")
        #expect(r.text.contains("--guset") && r.text.contains("--guest"), "\(r.text)")
        #expect(!r.text.contains("give either MOUNTPOINT"), "\(r.text)")
        // The rules still refuse what they refused, with their message and status.
        let both = try tsmfs("mount /nonexistent/a --sysroot /nonexistent/b")
        #expect(both.status == 64 && both.text.contains("give either MOUNTPOINT or --sysroot DIR"), "\(both.text)")
    }

    @Test("--kernel and --no-unified need --sysroot")
    func needsSysroot() throws {
        let r = try tsmfs("mount /nonexistent/tsmfs --kernel 6.12")
        #expect(
            r.status != 0 && r.text.contains("--kernel shapes a guest sysroot: it needs --sysroot DIR"), "\(r.text)")
    }

    /// Whether this build has the CCA guest (`--guest cca`, another issue).
    static let ccaGuest: Bool = {
        let r = try? tsmfs("mount --sysroot /nonexistent/tsmfs --guest cca --kernel 6.12")
        return !(r?.text.contains("invalid for '--guest") ?? true)
    }()

    @Test(
        "--kernel 6.12 --guest cca is refused naming 6.13; 6.13 serves it",
        .enabled(if: ccaGuest, "needs the CCA guest (--guest cca)"))
    func cca() throws {
        let r = try tsmfs("mount --sysroot /nonexistent/tsmfs --guest cca --kernel 6.12")
        #expect(r.status != 0 && r.text.contains("arrived in Linux 6.13"), "\(r.text)")
        guard MountEnvironment.canMount else { return }
        let mount = try MountedTSMFS(["--guest", "cca", "--kernel", "6.13"], sysroot: true)
        #expect(mount.stop() == 0, "\(mount.log)")
    }

    @Test("tsmfs kernels prints the release x face matrix")
    func matrix() throws {
        let r = try tsmfs("kernels")
        #expect(r.status == 0)
        let rows = r.text.split(separator: "\n").filter {
            $0.hasPrefix("| 5.") || $0.hasPrefix("| 6.") || $0.hasPrefix("| 7.")
        }
        #expect(
            rows.map { $0.split(separator: "|").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
                == ReleaseView.modelled.map(\.version))
    }
}
