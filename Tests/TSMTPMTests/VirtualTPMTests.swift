import Crypto
import Glibc
import Logging
import SwiftASN1
import TSMBytes
import TSMEvidence
import TSMTPM
import TestSupport
import Testing
import X509

/// A vTPM on a fresh temporary state directory; stopped and removed by `body`'s end.
func withVTPM<Result>(
    directory: String? = nil, seed: String = "tsmfs", _ body: (VirtualTPM, String) throws -> Result
) throws -> Result {
    let parent = try directory ?? makeTemporaryDirectory("tsmfs-vtpm")
    defer { if directory == nil { removeTree(parent) } }
    let state = parent + "/tpm"
    let tpm = try VirtualTPM.start(VTPMConfiguration(stateDirectory: state, seed: seed), logger: Logger(label: "test"))
    defer { tpm.stop() }
    return try body(tpm, state)
}

/// Removes a temporary directory and everything in it.
func removeTree(_ path: String) {
    guard path.hasPrefix("/tmp/") else { return }
    _ = system("rm -rf '\(path)'")
}

@Suite("VirtualTPM against swtpm")
struct VirtualTPMTests {
    @Test("GetRandom answers through transmit")
    func getRandom() throws {
        try withVTPM { (tpm: VirtualTPM, _: String) throws -> Void in
            let response = try tpm.transmit(bytes("80010000000c0000017b0010"))
            let parsed = try TPMResponse(response)
            #expect(parsed.code == .success)
            #expect(response.count == 10 + 2 + 16)
        }
    }

    @Test("PCR extend changes the PCR to H(old || digest) in both banks")
    func pcrExtend() throws {
        try withVTPM { (tpm: VirtualTPM, _: String) throws -> Void in
            let banks = try tpm.allocatedBanks()
            #expect(banks[.sha256] == Array(0...23))
            #expect(banks[.sha384] == Array(0...23))
            let old = try tpm.readPCR(bank: .sha256, index: 10)
            #expect(old == [UInt8](repeating: 0, count: 32))
            let digest = Array(SHA256.hash(data: Array("tsmfs".utf8)))
            try tpm.extendPCR(index: 10, bank: .sha256, digest: digest)
            #expect(try tpm.readPCR(bank: .sha256, index: 10) == Array(SHA256.hash(data: old + digest)))
            let digest384 = Array(SHA384.hash(data: Array("tsmfs".utf8)))
            try tpm.extendPCR(index: 10, bank: .sha384, digest: digest384)
            let expected = Array(SHA384.hash(data: [UInt8](repeating: 0, count: 48) + digest384))
            #expect(try tpm.readPCR(bank: .sha384, index: 10) == expected)
            #expect(throws: VTPMError.self) { try tpm.readPCR(bank: .sha1, index: 10) }
            // PCRs 17-22 take extends at locality 4 (DRTM) only; the devices speak locality 0.
            #expect(throws: VTPMError.tpm(command: "TPM2_PCR_Extend", responseCode: TPMResponseCode.locality.rawValue))
            {
                try tpm.extendPCR(index: 17, bank: .sha256, digest: digest)
            }
        }
    }

    @Test("Commands the kernel refuses before sending are refused with its errno")
    func commandSizes() throws {
        try withVTPM { (tpm: VirtualTPM, _: String) throws -> Void in
            #expect(
                throws: VTPMError.commandRejected(reason: "5 bytes, shorter than the 10-byte header", errno: EINVAL)
            ) {
                try tpm.transmit([0x80, 1, 0, 0, 0])
            }
            #expect((try? tpm.transmit([UInt8](repeating: 0, count: 4097)))?.isEmpty == nil)
            let zero = bytes("80010000000000000" + "17b0010")
            #expect(throws: VTPMError.commandRejected(reason: "header size 0", errno: ENODATA)) {
                try tpm.transmit(zero)
            }
            // Header says 12, 14 given: 12 are sent, as tpm_try_transmit sends the header's count.
            let response = try tpm.transmit(bytes("80010000000c0000017b0010ffff"))
            #expect(try TPMResponse(response).code == .success)
        }
    }
}
