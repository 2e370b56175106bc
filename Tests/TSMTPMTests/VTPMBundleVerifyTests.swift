import Foundation
import TSMBytes
import TSMEvidence
import TSMTPM
import TestSupport
import Testing

/// Where the built `tsmfs` binary is: `$TSMFS_BIN`, else next to the test bundle.
func tsmfsExecutable() -> String {
    if let path = ProcessInfo.processInfo.environment["TSMFS_BIN"], !path.isEmpty { return path }
    var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("tsmfs").path), directory.path != "/"
    {
        directory = directory.deletingLastPathComponent()
    }
    return directory.appendingPathComponent("tsmfs").path
}

/// `tsmfs verify ARGUMENTS`: its exit status, standard output and standard error.
func runVerify(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tsmfsExecutable())
    process.arguments = ["verify"] + arguments
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
}

/// A bundle's files by name, written to a fresh temporary directory (removed after `body`).
func withBundle<Result>(_ files: [String: [UInt8]], _ body: (String) throws -> Result) throws -> Result {
    let directory = try makeTemporaryDirectory("tsmfs-vtpm-bundle")
    defer { removeTree(directory) }
    for (name, bytes) in files {
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name))
    }
    return try body(directory)
}

/// TPM2_CreatePrimary of `template` in the endorsement hierarchy: the loaded handle and TPMT_PUBLIC.
func loadPrimaryInEndorsement(_ tpm: VirtualTPM, template: [UInt8]) throws -> (handle: UInt32, public: [UInt8]) {
    var parameters = ByteWriter()
    parameters.append([0, 4, 0, 0, 0, 0])
    parameters.sized16(template)
    parameters.sized16([])
    parameters.u32BigEndian(0)
    let response = try TPMResponse(
        tpm.transmit(
            TPM2Commands.command(.createPrimary, handles: [0x4000_000B], passwords: 1, parameters: parameters.bytes)))
    try #require(response.code == .success)
    var reader = ByteReader<VTPMError>(try response.parameters(handles: 1), structure: "CreatePrimary")
    return (UInt32(bigEndianBytes: response.body[0..<4]), try reader.sized16("outPublic"))
}

/// The quote files of SHA-256 PCRs 0-7 by `key` over `nonce`, as `tpm2_quote -m -s -o -F values`.
func quoteFiles(_ tpm: VirtualTPM, key: UInt32, nonce: [UInt8]) throws -> [String: [UInt8]] {
    try tpm.extendPCR(index: 7, bank: .sha256, digest: [UInt8](repeating: 0x5A, count: 32))
    let quoted = try quote(tpm, key: key, nonce: nonce)
    var values: [UInt8] = []
    for index in 0..<8 { values += try tpm.readPCR(bank: .sha256, index: index) }
    return ["quote.msg": quoted.attest, "quote.sig": quoted.signature, "quote.pcrs": values]
}

/// The nonce of every bundle here.
let bundleNonce = Array("tsmfs verify --vtpm nonce".utf8)

/// The options of `tsmfs verify` for `personality`'s bundle in `directory`.
func verifyArguments(_ directory: String, _ personality: String, guest: String = "sev-snp") -> [String] {
    [directory, "--guest", guest, "--vtpm", personality, "--nonce", Hex.encode(bundleNonce)]
}

/// A real bundle of each personality, made at the engine level.
enum Bundles {
    static func azure() throws -> [String: [UInt8]] {
        try withPersonality(try azurePersonality()) { tpm in
            let kds = MockKDS(authority: try SNPAuthority(seed: "tsmfs"))
            let index = AzurePersonality.attestationKeyCertificateIndex
            return try quoteFiles(tpm, key: AzurePersonality.attestationKeyHandle, nonce: bundleNonce).merging([
                "hcl-report.bin": try readReport(tpm),
                "ak-cert.der": try nvRead(tpm, index: index, size: try nvSize(tpm, index: index)),
                "vcek.der": kds.get(kds.vcekPath).body, "cert_chain.pem": kds.get("/vcek/v1/Milan/cert_chain").body,
            ]) { $1 }
        }
    }

    static func gcp(ecc: Bool) throws -> [String: [UInt8]] {
        try withPersonality(GCPPersonality()) { tpm in
            let template = ecc ? TPMTemplates.attestationKeyECC : TPMTemplates.attestationKeyRSA
            let index = ecc ? GCPPersonality.eccCertificateIndex : GCPPersonality.rsaCertificateIndex
            let key = try loadPrimaryInEndorsement(tpm, template: template)
            return try quoteFiles(tpm, key: key.handle, nonce: bundleNonce).merging([
                "ak-cert.der": try nvRead(tpm, index: index, size: try nvSize(tpm, index: index))
            ]) { $1 }
        }
    }

    /// SVSM's bundle; the report at `vmpl` with guest `policy`.
    static func svsm(vmpl: UInt32 = 0, policy: UInt64 = 0x30000) throws -> [String: [UInt8]] {
        try withVTPM { tpm, _ in
            let authority = try SNPAuthority(seed: "tsmfs")
            let manifest = try tpm.endorsementKeyPublic()
            let report = try authority.sign(
                SNPReport(
                    reportData: SVSMServicesManifest.reportData(nonce: bundleNonce, manifest: manifest), vmpl: vmpl,
                    measurement: [UInt8](repeating: 0, count: 48), hostData: [UInt8](repeating: 0, count: 32),
                    platform: authority.snpPlatform, policy: policy)
            ).report
            let ak = try loadPrimaryInEndorsement(tpm, template: TPMTemplates.attestationKeyRSA)
            return try quoteFiles(tpm, key: ak.handle, nonce: bundleNonce).merging([
                "report.bin": report, "auxblob.bin": authority.snpAuxblob, "manifest.bin": manifest,
                "ak.pub": ak.public,
            ]) { $1 }
        }
    }
}

/// `bytes` with the byte at `offset` (from the end when negative) changed.
func changed(_ bytes: [UInt8], at offset: Int) -> [UInt8] {
    var copy = bytes
    let index = offset < 0 ? copy.count + offset : offset
    copy[index] ^= 0x01
    return copy
}

/// The offset of the last byte of the DER certificate `der` starts with (its signature's).
func certificateEnd(_ der: [UInt8]) throws -> Int {
    try TPMKeyCertificateCheck.certificate(inNVContents: der).count - 1
}

@Suite("tsmfs verify --vtpm", .serialized)
struct VTPMBundleVerifyTests {
    /// Runs `tsmfs verify` on `files`, then on each `(file, offset, check)` change of one byte:
    /// the bundle is accepted, each changed one refused naming `check`.
    func expectVerified(
        _ files: [String: [UInt8]], _ personality: String, guest: String = "sev-snp",
        changes: [(file: String, offset: Int, check: VerificationCheck)]
    ) throws -> String {
        let accepted = try withBundle(files) { try runVerify(verifyArguments($0, personality, guest: guest)) }
        #expect(accepted.status == 0, "\(accepted.error)")
        for change in changes {
            var tampered = files
            tampered[change.file] = changed(try #require(files[change.file]), at: change.offset)
            let refused = try withBundle(tampered) { try runVerify(verifyArguments($0, personality, guest: guest)) }
            #expect(refused.status == 1, "\(change.file)@\(change.offset) accepted")
            #expect(
                refused.error.contains(change.check.rawValue + ": "),
                "\(change.file)@\(change.offset): \(refused.error)")
        }
        return accepted.output
    }

    /// The quote's three files, each with one byte changed.
    static let quoteChanges: [(file: String, offset: Int, check: VerificationCheck)] = [
        ("quote.msg", -1, .tpmQuoteSignature), ("quote.msg", 10, .tpmQuoteSignature),
        ("quote.sig", -1, .tpmQuoteSignature), ("quote.pcrs", 0, .tpmPCRDigest),
    ]

    @Test("azure: the HCL report, KDS's VCEK and cert_chain, the AK certificate and the quote verify")
    func azure() throws {
        let files = try Bundles.azure()
        let claims = AzureHCLReport.claimsOffset
        let output = try expectVerified(
            files, "azure",
            changes: Self.quoteChanges + [
                ("hcl-report.bin", 32 + 0x90, .reportSignature), ("hcl-report.bin", claims + 5, .hclReport),
                ("ak-cert.der", try certificateEnd(try #require(files["ak-cert.der"])), .akCertificate),
                ("vcek.der", -1, .vcekChain), ("cert_chain.pem", 200, .vcekChain),
            ])
        #expect(output.contains("\"vtpm\": \"azure\""))
        #expect(output.contains("\"guest\": \"sev-snp\""))
        #expect(output.contains("\"vmpl\": 0"))
        #expect(output.contains("\"tpm_nonce\": \"\(Hex.encode(bundleNonce))\""))
        let pcr7 = Array(try #require(files["quote.pcrs"])[224..<256])
        #expect(pcr7 != [UInt8](repeating: 0, count: 32))
        #expect(output.contains("\"pcr_sha256_7\": \"\(Hex.encode(pcr7))\""))
        #expect(output.contains("\"pcr_sha256_0\""))
    }

    @Test("gcp: the RSA and ECC AK certificates chain to the mock CA and their keys signed the quotes")
    func gcp() throws {
        let rsa = try Bundles.gcp(ecc: false)
        let output = try expectVerified(
            rsa, "gcp", guest: "tdx",
            changes: Self.quoteChanges + [
                ("ak-cert.der", try certificateEnd(try #require(rsa["ak-cert.der"])), .akCertificate),
                ("ak-cert.der", 200, .akCertificate),
            ])
        #expect(output.contains("\"guest\": \"tdx\"") && output.contains("\"vtpm\": \"gcp\""))
        let ecc = try Bundles.gcp(ecc: true)
        _ = try expectVerified(
            ecc, "gcp", changes: [("quote.sig", -1, .tpmQuoteSignature), ("ak-cert.der", 200, .akCertificate)])
        var swapped = ecc
        swapped["ak-cert.der"] = rsa["ak-cert.der"]
        let refused = try withBundle(swapped) { try runVerify(verifyArguments($0, "gcp")) }
        #expect(refused.status == 1 && refused.error.contains("TPM quote signature: "), "\(refused.error)")
    }

    @Test("svsm: the SNP report binds nonce and manifest (the EK) at VMPL 0; the AK signed the quote")
    func svsm() throws {
        let files = try Bundles.svsm()
        let auxblob = try #require(files["auxblob.bin"])
        let vcek = try #require(try SNPCertificateTable.parse(auxblob).certificate(.vcek))
        let vcekEnd = try #require(auxblob.firstRange(of: vcek)).upperBound - 1
        let output = try expectVerified(
            files, "svsm",
            changes: Self.quoteChanges + [
                ("report.bin", 0x90, .reportSignature), ("auxblob.bin", vcekEnd, .vcekChain),
                ("manifest.bin", -1, .svsmBinding), ("ak.pub", -1, .tpmQuoteSignature),
            ])
        #expect(output.contains("\"ek_public\": \"\(Hex.encode(try #require(files["manifest.bin"])))\""))
        #expect(output.contains("\"vtpm\": \"svsm\""))
        var sized = files  // ak.pub as tpm2_readpublic -f tss writes it: a TPM2B_PUBLIC
        let area = try #require(files["ak.pub"])
        sized["ak.pub"] = UInt16(area.count).bigEndianBytes + area
        #expect(try withBundle(sized) { try runVerify(verifyArguments($0, "svsm")) }.status == 0)
    }

    @Test("svsm: the policy applies to the SNP report; a report not at VMPL 0 is refused")
    func svsmPolicy() throws {
        let debug = try Bundles.svsm(policy: 0x30000 | 1 << 19)
        try withBundle(debug) { directory in
            let refused = try runVerify(verifyArguments(directory, "svsm"))
            #expect(refused.status == 1 && refused.error.contains("policy: policy is 0x"), "\(refused.error)")
            #expect(try runVerify(verifyArguments(directory, "svsm") + ["--allow-debug"]).status == 0)
        }
        try withBundle(try Bundles.svsm(vmpl: 1)) { directory in
            let refused = try runVerify(verifyArguments(directory, "svsm"))
            #expect(refused.status == 1 && refused.error.contains("SVSM vTPM binding: VMPL is 1"), "\(refused.error)")
        }
    }

    @Test("A wrong nonce, a file past its limit, a missing file and options that do not fit are refused")
    func refusals() throws {
        let files = try Bundles.gcp(ecc: false)
        try withBundle(files) { directory in
            var arguments = verifyArguments(directory, "gcp")
            arguments[arguments.count - 1] = "00ff"
            let wrongNonce = try runVerify(arguments)
            #expect(wrongNonce.status == 1 && wrongNonce.error.contains("TPM quote nonce: "), "\(wrongNonce.error)")
            for extra in [["--auxblob", "x"], ["--report-data", "00"], ["--trust-anchor", "x"], ["--crl", "x"]] {
                let refused = try runVerify(verifyArguments(directory, "gcp") + extra)
                #expect(refused.status != 0 && refused.error.contains("\(extra[0]) is not for a vTPM bundle"))
            }
            let minTCB = try runVerify(verifyArguments(directory, "gcp", guest: "tdx") + ["--min-tcb", "UpToDate"])
            #expect(minTCB.status != 0 && minTCB.error.contains("--min-tcb is a policy for the hardware report"))
            let tdx = try runVerify(verifyArguments(directory, "azure", guest: "tdx"))
            #expect(tdx.status != 0 && tdx.error.contains("--vtpm azure is for --guest sev-snp"), "\(tdx.error)")
            let noNonce = try runVerify([directory, "--guest", "sev-snp", "--vtpm", "gcp"])
            #expect(noNonce.status != 0 && noNonce.error.contains("--vtpm needs --nonce"), "\(noNonce.error)")
        }
        var large = files
        large["quote.sig"] = [UInt8](repeating: 0, count: 1025)
        try withBundle(large) { directory in
            let refused = try runVerify(verifyArguments(directory, "gcp"))
            #expect(refused.status == 1 && refused.error.contains("larger than its limit of 1024 bytes"))
            #expect(refused.error.contains("quote.sig"), "\(refused.error)")
        }
        var missing = files
        missing["ak-cert.der"] = nil
        try withBundle(missing) { directory in
            let refused = try runVerify(verifyArguments(directory, "gcp"))
            #expect(refused.status == 1 && refused.error.contains("ak-cert.der: cannot read"), "\(refused.error)")
        }
    }
}
