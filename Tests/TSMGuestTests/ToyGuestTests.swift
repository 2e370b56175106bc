import Foundation
import FuseKit
import Glibc
import SystemPackage
import Testing
import TSMBackends
import TSMEvidence
import TSMGuest
import TSMGuests
import TSMModel
import TSMTree

/// A guest added by one folder and one listing line (`ToyGuest/`): the commands' library faces
/// handle it with no other edit.
@Suite("a fourth guest, added by a folder and a line")
struct ToyGuestTests {
    let catalogue = ToyGuests.catalogue
    static let silent: Assembly.Log = { _ in }

    @Test("--guest knows it, and refuses other guests' options for it, naming their guests")
    func options() throws {
        #expect(catalogue.names == ["tdx", "sev-snp", "cca", "toy"])
        #expect(catalogue.list == "tdx, sev-snp, cca or toy")
        let toy = try #require(catalogue.named("toy"))
        var values = GuestOptionValues()
        values.set("--svsm")
        #expect(throws: GuestOptionError("--svsm needs --guest sev-snp")) { try catalogue.check(values, for: toy) }
        #expect(catalogue.sysrootProviders(toy).map(\.name) == ["cca", "measurement-example", "tdx", "toy"])
        #expect(!catalogue.plainProviders.contains { $0.name == "toy" })
        #expect(catalogue.providerCatalogue.contains { $0.name == "toy" })
    }

    @Test("tsmfs kernels: its column and element; --kernel 6.7 refuses it, naming 6.8")
    func kernels() {
        let rows = catalogue.kernelMatrix().split(separator: "\n")
        let row = { (release: String) in rows.first { $0.hasPrefix("| \(release) |") } ?? "" }
        #expect(rows[0].hasSuffix("| arm_cca_guest reports | toy_guest reports | blob max |"))
        #expect(row("6.7").hasSuffix("| - | - | 32 KiB |"), "6.7: no cca, no toy")
        #expect(row("6.8").hasSuffix("| - | yes | 32 KiB |"), "6.8: toy")
        #expect(catalogue.kernelElements().contains("6.8\t0123456789ab\tthe toy_guest report provider"))
        let refusal = GuestSpec.of(ToyGuest.self, kernel: KernelRelease(6, 7), catalogue: catalogue).kernelRefusal
        #expect(
            refusal?.description == "--kernel 6.7 --guest toy: Linux 6.7 has no the toy_guest report provider; "
                + "it arrived in Linux 6.8 (commit 0123456789ab)")
    }

    @Test("trust-anchor and certs")
    func authority() throws {
        let anchor = try ToyGuest.trustAnchorPEM(seed: "toy seed")
        #expect(anchor.hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
        #expect(try ToyGuest.certificates(seed: "toy seed") == [CertificateFile("toy.pem", anchor)])
        #expect(try ToyGuest.collateral(seed: "toy seed", at: .now) == nil)
        // `tsmfs certs --guest toy --out DIR`, as the command writes them.
        let directory = NSTemporaryDirectory() + "tsmfs-toy-certs-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let written = try CertificateFiles.write(try ToyGuest.certificates(seed: "toy seed"), into: directory)
        #expect(written == [directory + "/toy.pem"])
        #expect(try String(contentsOfFile: directory + "/toy.pem", encoding: .utf8) == anchor)
    }

    @Test("a sysroot: its tree, its reports through configfs, verified by tsmfs verify's check; a flipped byte refused")
    func sysrootAndVerify() throws {
        let served = try Assembly.sysroot(
            GuestSpec.of(ToyGuest.self, seed: "toy seed", catalogue: catalogue), state: nil, log: Self.silent)
        #expect(
            served.summary.hasPrefix("a toy guest sysroot of Linux 7.0 (providers cca, measurement-example, tdx, toy)"))
        let fs = TSMFileSystem(tree: served.tree)
        #expect(fs.tree.node(at: "sys/kernel/tsm/toy/rtm0/digest") != nil)
        try Operations.extendOrFail(served, "toy/rtm0", String(repeating: "ab", count: 32))
        let nonce = (0..<64).map { UInt8($0) }
        let outblob = try ReportThroughTree.outblob(fs, inblob: nonce)
        let json = try EvidenceCheck.run(
            VerifyRequest(evidence: outblob, seed: "toy seed"), guest: ToyGuest.self, reportData: nonce)
        #expect(json.hasPrefix("{\n  \"guest\": \"toy\",\n  \"launch\": "))
        var flipped = outblob
        flipped[100] ^= 1
        #expect(throws: EvidenceCheck.Failure.self) {
            try EvidenceCheck.run(
                VerifyRequest(evidence: flipped, seed: "toy seed"), guest: ToyGuest.self, reportData: nil)
        }
        let anchor = try ToyGuest.trustAnchorPEM(seed: "other seed")
        #expect(throws: EvidenceCheck.Failure.self) {
            try EvidenceCheck.run(
                VerifyRequest(evidence: outblob, trustAnchorPEM: anchor), guest: ToyGuest.self, reportData: nil)
        }
    }

    @Test(
        """
        --inject-fault: extend faults on its register, outblob and mkdir faults on its reports, applied by the \
        generic assembly
        """
    )
    func faults() throws {
        let faults = [
            FaultSpec(kind: .extend, errno: .ioError, count: 1, register: "rtm0"),
            FaultSpec(kind: .outblob, errno: .resourceBusy), FaultSpec(kind: .mkdir, errno: .noSuchAddressOrDevice),
        ]
        let served = try Assembly.sysroot(
            GuestSpec.of(ToyGuest.self, faults: faults, catalogue: catalogue), state: nil, log: Self.silent)
        let operations = try #require(served.operations)
        #expect(operations.faults?.armed.count == 3)
        #expect(throws: Operations.Failure.refused("toy/rtm0", .ioError)) {
            try operations.extend("toy/rtm0", hex: String(repeating: "ab", count: 32), event: [])
        }
        try operations.extend("toy/rtm0", hex: String(repeating: "ab", count: 32), event: [])
        let fs = TSMFileSystem(tree: served.tree)
        #expect(throws: Errno.noSuchAddressOrDevice) {
            try ReportThroughTree.outblob(fs, inblob: [UInt8](repeating: 0, count: 64))
        }
        #expect(throws: Errno.resourceBusy) {
            try ReportThroughTree.outblob(fs, inblob: [UInt8](repeating: 0, count: 64))
        }
        #expect(try ReportThroughTree.outblob(fs, inblob: [UInt8](repeating: 0, count: 64)).count == 192)
        let unknown = [FaultSpec(kind: .extend, register: "rim")]
        #expect(throws: AssemblyError.self) {
            try Assembly.sysroot(
                GuestSpec.of(ToyGuest.self, faults: unknown, catalogue: catalogue), state: nil, log: Self.silent)
        }
    }
}

extension Operations {
    static func extendOrFail(_ served: Served, _ path: String, _ hex: String) throws {
        let operations = try #require(served.operations)
        try operations.extend(path, hex: hex, event: [])
    }
}

/// A configfs-tsm report made through the filesystem's operations, as a client's mkdir, inblob
/// write and outblob read would.
enum ReportThroughTree {
    static let root = RequestContext(uid: 0, gid: 0, pid: 1)

    static func outblob(_ fs: TSMFileSystem, inblob: [UInt8]) throws -> [UInt8] {
        let group = try #require(fs.tree.node(at: "sys/kernel/config/tsm/report")).inode
        let name = "entry\(UInt32.random(in: 0...UInt32.max))"
        let item = try fs.mkdir(parent: group, name: name, permissions: 0o755, context: root)
        defer { try? fs.rmdir(parent: group, name: name) }
        let input = try fs.lookup(parent: item.inode, name: "inblob")
        let writer = try fs.open(input.inode, flags: OpenFlags(rawValue: O_WRONLY), context: root)
        _ = try inblob.withUnsafeBytes { try fs.write(input.inode, handle: writer.handle, offset: 0, data: $0) }
        try fs.flush(input.inode, handle: writer.handle)
        fs.release(input.inode, handle: writer.handle)
        let output = try fs.lookup(parent: item.inode, name: "outblob")
        let reader = try fs.open(output.inode, flags: OpenFlags(rawValue: O_RDONLY), context: root)
        defer { fs.release(output.inode, handle: reader.handle) }
        return try fs.read(output.inode, handle: reader.handle, offset: 0, count: 1 << 16)
    }
}
