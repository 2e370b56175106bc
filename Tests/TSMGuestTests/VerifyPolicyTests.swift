import TSMEvidence
import TSMGuest
import TSMGuests
import Testing

/// The policy knobs' grammars and `VerifyPolicy`'s checks over reports the mock authority signs.
@Suite("verify policy")
struct VerifyPolicyTests {
    @Test("the knobs' grammars: names to bits, reserved bit 17 always set, SPLs all four, lifecycle ranges")
    func grammars() throws {
        #expect(try TDAttributes.parse("debug,perfmon").get() == 0x8000_0000_0000_0001)
        #expect(try TDAttributes.parse("none").get() == 0)
        #expect(throws: PolicyFieldError.self) { try TDAttributes.parse("debug,,pks").get() }
        #expect(try SNPGuestPolicy.parse("smt").get() == SNPGuestPolicy.default)
        #expect(try SNPGuestPolicy.parse("debug,abi=1.51").get() == 0xA_0133)
        #expect(throws: PolicyFieldError.self) { try SNPGuestPolicy.parse("abi=1").get() }
        #expect(throws: PolicyFieldError.self) { try SNPGuestPolicy.parse("abi=256.0").get() }
        let tcb = try SNPTCB.parse("ucode=213,snp=22,tee=0,bl=4", option: "--x").get()
        #expect(tcb == SNPTCB(bootloader: 4, tee: 0, snp: 22, microcode: 213))
        #expect(tcb.splText == "bl=4,tee=0,snp=22,ucode=213")
        #expect(throws: PolicyFieldError.self) { try SNPTCB.parse("bl=4,tee=0,snp=22", option: "--x").get() }
        #expect(throws: PolicyFieldError.self) { try SNPTCB.parse("bl=4,bl=4,snp=1,ucode=1", option: "--x").get() }
        #expect(try CCALifecycle.parse("debug", option: "--x").get() == 0x4000)
        #expect(try CCALifecycle.parse("0x30a7", option: "--x").get() == 0x30a7)
        #expect(throws: PolicyFieldError.self) { try CCALifecycle.parse("0x3100", option: "--x").get() }
        #expect(CCALifecycle.name(of: 0x60ff) == "decommissioned")
    }

    @Test("SEV-SNP: the signature verifies, then the policy refuses DEBUG, an old REPORTED_TCB, the wrong key")
    func snpPolicy() throws {
        let authority = try SNPAuthority(seed: "policy")
        var report = try SNPReport(
            reportData: [UInt8](repeating: 1, count: 64), vmpl: 0, measurement: [UInt8](repeating: 2, count: 48),
            hostData: [UInt8](repeating: 0, count: 32), platform: authority.snpPlatform,
            policy: SNPGuestPolicy.default | 1 << 19)
        report.reportedTCB = SNPTCB(bootloader: 1, tee: 0, snp: 9, microcode: 100)
        let evidence = try authority.sign(report)
        let request = { (policy: VerifyPolicy) in
            VerifyRequest(evidence: evidence.report, auxblob: evidence.auxblob, seed: "policy", policy: policy)
        }
        #expect(try SNPGuest.verify(request(.none)).guest == "sev-snp")
        #expect(
            throws: EvidenceError.failed(
                .policy, reason: "policy is 0xb0000: DEBUG (bit 19) is set; --allow-debug accepts it")
        ) {
            try SNPGuest.verify(request(.default))
        }
        let policy = { (name: String, value: String) in
            var values = GuestOptionValues()
            values.set(name, value)
            return VerifyPolicy(allowDebug: true, values: values)
        }
        #expect(throws: EvidenceError.self) {
            try SNPGuest.verify(request(policy("--min-tcb", "bl=1,tee=0,snp=10,ucode=0")))
        }
        #expect(try SNPGuest.verify(request(policy("--signing-key", "vcek"))).guest == "sev-snp")
        #expect(throws: EvidenceError.self) { try SNPGuest.verify(request(policy("--signing-key", "vlek"))) }
        var other = GuestOptionValues()
        other.set("--lifecycle", "secured")
        #expect(throws: GuestOptionError("--lifecycle is for --guest cca")) {
            try Guests.catalogue.checkPolicy(other, for: SNPGuest.self)
        }
        other = GuestOptionValues()
        other.set("--min-tcb", "Nonsense")
        #expect(throws: GuestOptionError("--min-tcb Nonsense: for tdx a TCB status")) {
            try Guests.catalogue.checkPolicy(other, for: TDXGuest.self)
        }
    }

    @Test("SEV-SNP --signing-key vlek: a VLEK-signed report verifies, --signing-key vcek refuses it")
    func snpVLEK() throws {
        let authority = try SNPAuthority(seed: "policy")
        let report = try SNPReport(
            reportData: [UInt8](repeating: 1, count: 64), vmpl: 0, measurement: [UInt8](repeating: 2, count: 48),
            hostData: [UInt8](repeating: 0, count: 32), platform: authority.snpPlatform, policy: SNPGuestPolicy.default)
        let evidence = try authority.sign(report, key: .vlek)
        let request = { (policy: VerifyPolicy) in
            VerifyRequest(evidence: evidence.report, auxblob: evidence.auxblob, seed: "policy", policy: policy)
        }
        #expect(try SNPGuest.verify(request(.default)).guest == "sev-snp")
        let requiring = { (key: String) in
            var values = GuestOptionValues()
            values.set("--signing-key", key)
            return VerifyPolicy(values: values)
        }
        #expect(try SNPGuest.verify(request(requiring("vlek"))).guest == "sev-snp")
        #expect(
            throws: EvidenceError.failed(.policy, reason: "signing_key is 1 (vlek): --signing-key vcek is required")
        ) {
            try SNPGuest.verify(request(requiring("vcek")))
        }
    }
}
