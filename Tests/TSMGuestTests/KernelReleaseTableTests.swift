import FuseKit
import Testing
import TSMBackends
import TSMEvidence
import TSMGuest
import TSMGuests
import TSMModel
import TSMTree

@Suite("--kernel: the release table")
struct KernelReleaseTableTests {
    static let known = "known: 5.19, 6.1, 6.2, 6.3, 6.6, 6.7, 6.8, 6.11, 6.12, 6.13, 6.16, 6.18, 7.0"

    @Test("the modelled releases parse, in order; 7.0 is the default")
    func modelled() throws {
        let versions = KernelRelease.modelled.map(\.description)
        #expect(
            versions == [
                "5.19", "6.1", "6.2", "6.3", "6.6", "6.7", "6.8", "6.11", "6.12", "6.13", "6.16", "6.18", "7.0",
            ])
        #expect(KernelRelease.modelled == KernelRelease.modelled.sorted())
        for version in versions { #expect(try KernelRelease.parse(version).description == version) }
        #expect(KernelRelease.newest == KernelRelease(7, 0))
        #expect(GuestSpec.of(TDXGuest.self).kernel == KernelRelease(7, 0))
    }

    @Test("before 5.19 names the oldest modelled release; one grammar: no leading zeros, no patch level, no sign")
    func refusedVersions() throws {
        for (version, release) in [
            ("5.18", KernelRelease(5, 18)), ("5.15", KernelRelease(5, 15)), ("4.0", KernelRelease(4, 0)),
        ] {
            #expect(throws: KernelRelease.Refusal.predatesModelled(release)) { try KernelRelease.parse(version) }
            #expect(
                KernelRelease.Refusal.predatesModelled(release).description
                    == "Linux \(version) is older than every modelled release: the oldest, 5.19, is the first with "
                    + "a guest attestation interface (`tsmfs kernels --elements`); \(Self.known)")
        }
        for version in ["6.0", "6.4", "6.5", "6.9", "6.10", "7.1"] {
            #expect(throws: KernelRelease.Refusal.unknown(version)) { try KernelRelease.parse(version) }
        }
        for version in [
            "v6.12", "6.+7", "6.", ".7", "", "6.7\n", String(repeating: "9", count: 40) + ".1", "06.16", "6.013",
            "6.16.00", "6.16.", "6.16.x", "-1", "+6.16", "6.16 ", "６.16",
        ] {
            #expect(throws: KernelRelease.Refusal.malformed(version)) { try KernelRelease.parse(version) }
        }
        for version in ["6.12.3", "6.16.0"] {
            #expect(throws: KernelRelease.Refusal.self) { try KernelRelease.parse(version) }
            do {
                _ = try KernelRelease.parse(version)
            } catch {
                #expect(error == .patchLevel(version, KernelRelease(6, version == "6.16.0" ? 16 : 12)))
                #expect(error.description.contains("give 6.") && error.description.contains("patch level"))
            }
        }
        #expect(KernelRelease.Refusal.malformed("06.16").description.contains(KernelRelease.grammar))
        #expect(try KernelRelease.parse("6.16") == KernelRelease(6, 16))
        #expect(try KernelRelease.parse("7.0") == KernelRelease(7, 0))
        #expect(KernelRelease.Refusal.unknown("6.9").description.hasSuffix(Self.known))
    }

    @Test(
        "every element's release: 5.19, 6.1, 6.2, 6.3, 6.7, 6.11, 6.13, 6.16, 7.0; the blob limit is 32 KiB until 7.0")
    func elements() {
        let features = Guests.catalogue.kernelFeatures
        let releases = Dictionary(grouping: features, by: \.release).keys.sorted().map(\.description)
        #expect(releases == ["5.19", "6.1", "6.2", "6.3", "6.7", "6.11", "6.13", "6.16", "7.0"])
        #expect(features.count == 15)
        for feature in features { #expect(feature.commit.count == 12, "\(feature)") }
        for release in KernelRelease.modelled {
            #expect(release.outblobMax == (release >= KernelRelease(7, 0) ? 16 << 20 : 32 << 10), "\(release)")
        }
        #expect(CCAGuest.reportsFeature.release == KernelRelease(6, 13))
    }

    @Test(
        "each guest is refused before its minimum (SNP 5.19, TDX 6.2, CCA 6.13), naming release and commit; served on",
        arguments: Guests.catalogue.names)
    func guests(_ name: String) throws {
        let guest = try #require(Guests.catalogue.named(name))
        let feature = guest.minimumKernelFeature
        let expected = ["sev-snp": "5.19", "tdx": "6.2", "cca": "6.13"]
        #expect(expected[name].map { feature.release.description == $0 } ?? true, "\(feature)")
        for release in KernelRelease.modelled {
            let spec = GuestSpec.of(guest, kernel: release)
            if release >= feature.release {
                #expect(spec.kernelRefusal == nil, "\(release)")
            } else {
                #expect(
                    spec.kernelRefusal?.description
                        == "--kernel \(release) --guest \(name): Linux \(release) has no \(feature.summary); "
                        + "it arrived in Linux \(feature.release) (commit \(feature.commit))", "\(release)")
            }
            #expect(spec.servesReports == (release >= KernelRelease(6, 7) && release >= guest.reportsFeature.release))
        }
    }

    @Test("--svsm and a non-zero --privlevel-floor need 6.11", arguments: KernelRelease.modelled)
    func sevOptions(_ release: KernelRelease) {
        let svsm = GuestSpec.of(SNPGuest.self, ["--privlevel-floor": "1", "--svsm": ""], kernel: release).kernelRefusal
        let floor = GuestSpec.of(SNPGuest.self, ["--privlevel-floor": "2"], kernel: release).kernelRefusal
        if release >= KernelRelease(6, 11) {
            #expect(svsm == nil && floor == nil)
        } else {
            #expect(svsm == .lacks(SNPGuest.svsmAttestation, option: "--svsm", release: release))
            #expect(
                svsm?.description == "--kernel \(release) --svsm: Linux \(release) has no SVSM attestation "
                    + "(service_provider, service_guid, service_manifest_version, manifestblob); "
                    + "it arrived in Linux 6.11 (commit 627dc671518b)")
            #expect(floor == .lacks(SNPGuest.vmpckFloor, option: "--privlevel-floor 2", release: release))
        }
    }

    @Test("--tdx-driver intel combines with 6.2 to 6.6 only", arguments: KernelRelease.modelled)
    func intelDriver(_ release: KernelRelease) {
        let refusal = GuestSpec.of(TDXGuest.self, ["--tdx-driver": "intel"], kernel: release).kernelRefusal
        let upstream = GuestSpec.of(TDXGuest.self, ["--tdx-driver": "upstream"], kernel: release).kernelRefusal
        if release < KernelRelease(6, 2) {
            #expect(refusal == .lacks(TDXGuest.guestDevice, option: "--guest tdx", release: release))
        } else if release < KernelRelease(6, 7) {
            #expect(refusal == nil && upstream == nil)
        } else {
            #expect(upstream == nil)
            #expect(
                refusal?.description
                    == "--kernel \(release) --tdx-driver intel: Linux \(release) has tdx_guest reports (generation, "
                    + "provider, inblob, outblob), which replaced what --tdx-driver intel serves (Linux 6.7, "
                    + "commit f4738f56d1dc); the newest release without it is 6.6")
        }
    }

    @Test("the matrix has one row per modelled release, each guest's columns in catalogue order")
    func matrix() {
        let rows = Guests.catalogue.kernelMatrix().split(separator: "\n")
        #expect(rows.count == 2 + KernelRelease.modelled.count)
        let header: String =
            "| release | tdx_guest reports | /dev/tdx_guest | tdx_guest/measurements | tsm_mr_sample "
            + "| --tdx-driver intel (GET_QUOTE, EXTEND_RTMR) | sev_guest reports | SVSM attributes + manifestblob "
            + "| SVSM vTPM (tpm_svsm) | /dev/sev-guest | EXT_REPORT sizing call | arm_cca_guest reports | blob max |"
        #expect(rows[0] == header)
        let callbacks = "7 (callbacks; floor = VMPCK)"
        #expect(rows.last == "| 7.0 | 4 | yes | yes | yes | - | \(callbacks) | yes | yes | yes | EIO | yes | 16 MiB |")
        #expect(rows[2] == "| 5.19 | - | - | - | - | - | - | - | - | yes | EIO | - | - |")
        #expect(rows[3] == "| 6.1 | - | - | - | - | - | - | - | - | yes | 0 | - | - |")
        #expect(rows[4] == "| 6.2 | - | yes | - | - | option | - | - | - | yes | 0 | - | - |")
        #expect(rows[5] == "| 6.3 | - | yes | - | - | option | - | - | - | yes | EIO | - | - |")
        #expect(rows[7] == "| 6.7 | 4 | yes | - | - | - | 7 (fixed set; floor 0) | - | - | yes | EIO | - | 32 KiB |")
        #expect(rows[11] == "| 6.13 | 4 | yes | - | - | - | \(callbacks) | yes | - | yes | EIO | yes | 32 KiB |")
        #expect(rows[12] == "| 6.16 | 4 | yes | yes | yes | - | \(callbacks) | yes | yes | yes | EIO | yes | 32 KiB |")
    }

    @Test("the tpm_svsm column and element are the feature --vtpm svsm's refusal names, for every release")
    func svsmVTPM() {
        let rows = Guests.catalogue.kernelMatrix().split(separator: "\n").map { $0.split(separator: "|") }
        let column = rows[0].firstIndex { $0.trimmingCharacters(in: .whitespaces) == SNPGuest.svsmVTPM.summary }
        #expect(column != nil)
        var values = GuestOptionValues()
        values.set("--guest", "sev-snp")
        values.set("--vtpm", "svsm")
        for (position, release) in KernelRelease.modelled.enumerated() {
            let cell = column.map { rows[2 + position][$0].trimmingCharacters(in: .whitespaces) }
            let refusal = SNPGuest.kernelRefusal(values, release: release)
            #expect(cell == (refusal == nil ? "yes" : "-"), "\(release)")
            if let refusal { #expect(refusal == .lacks(SNPGuest.svsmVTPM, option: "--vtpm svsm", release: release)) }
        }
        #expect(
            Guests.catalogue.kernelElements().split(separator: "\n").contains(
                "6.16\t93b7c6b3ce91\tSVSM vTPM (tpm_svsm)"))
    }
}

@Suite("--kernel: what the assembly lays out for each release")
struct KernelAssemblyTests {
    static let silent: Assembly.Log = { _ in }

    @Test(
        "TDX: measurements/ and tsm_mr_sample from 6.16; before, the bare misc device and link; configfs-tsm from 6.7",
        arguments: KernelRelease.modelled.filter { $0 >= KernelRelease(6, 2) })
    func tdx(_ release: KernelRelease) throws {
        let tree = try Assembly.sysroot(GuestSpec.of(TDXGuest.self, kernel: release), state: nil, log: Self.silent).tree
        let tsmMR = release >= KernelRelease(6, 16)
        #expect(tree.node(at: "sys/devices/virtual/misc/tdx_guest")?.kind == .directory)
        #expect((tree.node(at: "sys/devices/virtual/misc/tdx_guest/measurements/rtmr0:sha384") != nil) == tsmMR)
        #expect((tree.node(at: "sys/devices/virtual/misc/tsm_mr_sample") != nil) == tsmMR)
        #expect(tree.node(at: "sys/class/misc/tdx_guest") != nil)
        #expect(tree.node(at: "dev/tdx_guest") != nil)
        #expect(tree.node(at: "sys/kernel/tsm/tdx/rtmr0/digest") != nil)
        #expect((tree.node(at: "sys/kernel/config/tsm/report") != nil) == (release >= KernelRelease(6, 7)))
        #expect((tree.node(at: "sys/kernel/config") != nil) == (release >= KernelRelease(6, 7)))
    }

    @Test(
        "SEV-SNP: /dev/sev-guest and its misc entry on every release; sys/kernel/config/tsm only from 6.7",
        arguments: KernelRelease.modelled)
    func sevSNP(_ release: KernelRelease) throws {
        let spec = GuestSpec.of(SNPGuest.self, kernel: release, unified: false)
        let tree = try Assembly.sysroot(spec, state: nil, log: Self.silent).tree
        #expect(tree.node(at: "dev/sev-guest") != nil)
        #expect(tree.node(at: "sys/devices/virtual/misc/sev-guest")?.kind == .directory)
        #expect(tree.node(at: "sys/class/misc/sev-guest") != nil)
        #expect((tree.node(at: "sys/kernel/config/tsm/report") != nil) == (release >= KernelRelease(6, 7)))
        #expect((tree.node(at: "sys/kernel") != nil) == (release >= KernelRelease(6, 7)))
    }

    @Test("before 6.7 a report fault is refused (it could never fire), naming configfs-tsm; extend faults stay")
    func reportFaultBeforeConfigfs() throws {
        let release = KernelRelease(6, 6)
        let outblob = GuestSpec.of(SNPGuest.self, faults: [FaultSpec(kind: .outblob)], kernel: release)
        do {
            _ = try Assembly.sysroot(outblob, state: nil, log: Self.silent)
            Issue.record("an outblob fault on 6.6 was accepted")
        } catch {
            #expect(
                error.description
                    == "--kernel 6.6 --inject-fault outblob: Linux 6.6 has no configfs-tsm reports "
                    + "(sys/kernel/config/tsm/report); it arrived in Linux 6.7 (commit 70e6f7e2b985)")
        }
        let extend = GuestSpec.of(TDXGuest.self, faults: [FaultSpec(kind: .extend)], kernel: release)
        #expect(throws: Never.self) { try Assembly.sysroot(extend, state: nil, log: Self.silent) }
    }

    @Test("--no-unified leaves out sys/kernel/tsm only")
    func noUnified() throws {
        let tree = try Assembly.sysroot(
            GuestSpec.of(TDXGuest.self, kernel: KernelRelease(6, 12), unified: false),
            state: nil, log: Self.silent
        ).tree
        #expect(tree.node(at: "sys/kernel/tsm") == nil)
        #expect(tree.node(at: "sys/kernel/config/tsm/report") != nil)
        #expect(tree.node(at: "dev/tdx_guest") != nil)
    }

    @Test("a refused spec is refused by the assembly too")
    func refused() {
        #expect(throws: AssemblyError.self) {
            try Assembly.sysroot(
                GuestSpec.of(SNPGuest.self, ["--svsm": ""], kernel: KernelRelease(6, 7)), state: nil, log: Self.silent)
        }
    }
}
