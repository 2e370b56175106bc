import Glibc
import Logging
import Synchronization
import SwiftASN1
import TSMBytes
import TSMEvidence
import TSMTPM
import TestSupport
import Testing
import X509

/// NV_Read of `index` (owner authorisation, `size` bytes, 1024 at a time).
func nvRead(_ tpm: VirtualTPM, index: UInt32, size: Int) throws -> [UInt8] {
    var bytes: [UInt8] = []
    while bytes.count < size {
        let parameters = UInt16(min(1024, size - bytes.count)).bigEndianBytes + UInt16(bytes.count).bigEndianBytes
        let response = try TPMResponse(
            tpm.transmit(
                TPM2Commands.command(
                    .nvRead, handles: [TPM2Commands.ownerHierarchy, index], passwords: 1, parameters: parameters)))
        try #require(response.code == .success)
        let body = try response.parameters()
        bytes += body[2...]
    }
    return bytes
}

/// The data size of NV `index` (TPM2_NV_ReadPublic).
func nvSize(_ tpm: VirtualTPM, index: UInt32) throws -> Int {
    let response = try TPMResponse(tpm.transmit(TPM2Commands.command(.nvReadPublic, handles: [index])))
    try #require(response.code == .success)
    let body = try response.parameters()
    return Int(body[14]) << 8 | Int(body[15])
}

/// TPM2_ReadPublic of the RSA EK: its TPM2B_PUBLIC.
func ekPublic(_ tpm: VirtualTPM) throws -> [UInt8] {
    let response = try TPMResponse(tpm.transmit(TPM2Commands.command(.readPublic, handles: [0x8101_0001])))
    try #require(response.code == .success)
    return try response.parameters()
}

@Suite("VirtualTPM lifecycle")
struct VirtualTPMLifecycleTests {
    @Test("NV 0x01C00002 holds an EK certificate for the EK, signed by the seed's mock EK CA")
    func ekCertificate() throws {
        try withVTPM(seed: "ek-test") { tpm, _ in
            let der = try nvRead(tpm, index: 0x01C0_0002, size: try nvSize(tpm, index: 0x01C0_0002))
            let certificate = try Certificate(derEncoded: der)
            let ca = try Certificate(pemEncoded: try VirtualTPM.ekCertificateAuthority(seed: "ek-test"))
            #expect(ca.publicKey.isValidSignature(certificate.signature, for: certificate))
            let other = try Certificate(pemEncoded: try VirtualTPM.ekCertificateAuthority(seed: "tsmfs"))
            #expect(!other.publicKey.isValidSignature(certificate.signature, for: certificate))
            #expect(certificate.issuer == ca.subject)
            // The certified key is the EK's: its modulus is the last 256 bytes of the EK's public area.
            let spki = certificate.publicKey.subjectPublicKeyInfoBytes
            let ek = try ekPublic(tpm)
            let modulus = Array(ek.suffix(from: try modulusOffset(ek)).prefix(256))
            #expect(modulus.count == 256)
            #expect(
                (0...(spki.count - 256)).contains {
                    Array(spki[spki.startIndex + $0..<spki.startIndex + $0 + 256]) == modulus
                })
            let usage = try certificate.extensions.extendedKeyUsage
            #expect(usage?.contains(ExtendedKeyUsage.Usage(oid: [2, 23, 133, 8, 1])) == true)
        }
    }

    @Test("A second start on the same directory keeps the EK, NV indices and the certificate")
    func persistence() throws {
        let parent = try makeTemporaryDirectory("tsmfs-vtpm")
        defer { removeTree(parent) }
        let first = try withVTPM(directory: parent) { tpm, _ in
            // An owner NV index of 8 bytes, written.
            let define =
                UInt16(0).bigEndianBytes + UInt16(14).bigEndianBytes + UInt32(0x0150_0016).bigEndianBytes
                + UInt16(0x000B).bigEndianBytes + UInt32(0x0006_0006).bigEndianBytes + UInt16(0).bigEndianBytes
                + UInt16(8).bigEndianBytes
            let defined = try TPMResponse(
                tpm.transmit(
                    TPM2Commands.command(.nvDefineSpace, handles: [0x4000_0001], passwords: 1, parameters: define)))
            #expect(defined.code == .success)
            let write = UInt16(8).bigEndianBytes + Array("persists".utf8) + UInt16(0).bigEndianBytes
            let written = try TPMResponse(
                tpm.transmit(
                    TPM2Commands.command(
                        .nvWrite, handles: [0x0150_0016, 0x0150_0016], passwords: 1, parameters: write)
                ))
            #expect(written.code == .success)
            return try (ekPublic(tpm), nvRead(tpm, index: 0x01C0_0002, size: nvSize(tpm, index: 0x01C0_0002)))
        }
        try withVTPM(directory: parent) { (tpm: VirtualTPM, _: String) throws -> Void in
            #expect(try ekPublic(tpm) == first.0)
            #expect(try nvRead(tpm, index: 0x01C0_0002, size: nvSize(tpm, index: 0x01C0_0002)) == first.1)
            #expect(try nvRead(tpm, index: 0x0150_0016, size: 8) == Array("persists".utf8))
        }
    }

    @Test("A start with another seed replaces the EK certificate with one of that seed's CA, same EK")
    func reseeded() throws {
        let parent = try makeTemporaryDirectory("tsmfs-vtpm")
        defer { removeTree(parent) }
        let before = try withVTPM(directory: parent, seed: "first") { (tpm: VirtualTPM, _: String) throws in
            try ekPublic(tpm)
        }
        try withVTPM(directory: parent, seed: "second") { (tpm: VirtualTPM, _: String) throws -> Void in
            #expect(try ekPublic(tpm) == before)
            let der = try nvRead(tpm, index: 0x01C0_0002, size: try nvSize(tpm, index: 0x01C0_0002))
            let certificate = try Certificate(derEncoded: der)
            let second = try Certificate(pemEncoded: try VirtualTPM.ekCertificateAuthority(seed: "second"))
            let first = try Certificate(pemEncoded: try VirtualTPM.ekCertificateAuthority(seed: "first"))
            #expect(second.publicKey.isValidSignature(certificate.signature, for: certificate))
            #expect(!first.publicKey.isValidSignature(certificate.signature, for: certificate))
        }
    }

    @Test("swtpm killed: the command throws died, later ones too, nothing hangs")
    func died() throws {
        try withVTPM { (tpm: VirtualTPM, _: String) throws -> Void in
            let pid = try #require(tpm.processID)
            kill(pid, SIGKILL)
            #expect(throws: VTPMError.died(status: 128 + SIGKILL)) {
                try tpm.transmit(bytes("80010000000c0000017b0008"))
            }
            #expect(throws: VTPMError.died(status: 128 + SIGKILL)) {
                try tpm.transmit(bytes("80010000000c0000017b0008"))
            }
            #expect(VTPMError.died(status: 137).errno == EIO)
            #expect(tpm.processID == nil)
        }
    }

    @Test("swtpm stopped (SIGSTOP): the command times out, swtpm is killed, later commands fail at once")
    func hung() throws {
        let parent = try makeTemporaryDirectory("tsmfs-vtpm")
        defer { removeTree(parent) }
        let configuration = VTPMConfiguration(stateDirectory: parent + "/tpm", commandTimeoutSeconds: 1)
        let tpm = try VirtualTPM.start(configuration, logger: Logger(label: "test"))
        defer { tpm.stop() }
        let pid = try #require(tpm.processID)
        kill(pid, SIGSTOP)
        #expect(throws: VTPMError.timedOut(operation: "a command", seconds: 1)) {
            try tpm.transmit(bytes("80010000000c0000017b0008"))
        }
        #expect(throws: VTPMError.timedOut(operation: "a command", seconds: 1)) {
            try tpm.transmit(bytes("80010000000c0000017b0008"))
        }
        // Reaped: the pid is no child of ours any more.
        #expect(waitpid(pid, nil, WNOHANG) == -1)
    }

    @Test("swtpm is forked from a thread that outlives the starting one")
    func outlivesStartingThread() throws {
        let parent = try makeTemporaryDirectory("tsmfs-vtpm")
        defer { removeTree(parent) }
        let configuration = VTPMConfiguration(stateDirectory: parent + "/tpm")
        let started = Mutex<Result<VirtualTPM, VTPMError>?>(nil)
        var thread = pthread_t()
        final class Box: Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let body: @Sendable () -> Void = {
            let result = Result { () throws(VTPMError) in
                try VirtualTPM.start(configuration, logger: Logger(label: "test"))
            }
            started.withLock { $0 = result }
        }
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        try #require(
            pthread_create(
                &thread, nil,
                { context in
                    guard let context else { return nil }
                    Unmanaged<Box>.fromOpaque(context).takeRetainedValue().body()
                    return nil
                }, context) == 0)
        pthread_join(thread, nil)
        let tpm = try #require(try started.withLock { $0 }?.get())
        defer { tpm.stop() }
        // The starting thread has ended; swtpm still answers.
        #expect(try TPMResponse(tpm.transmit(bytes("80010000000c0000017b0008"))).code == .success)
    }

    @Test("swtpm missing: a clear error naming the Debian packages")
    func missing() throws {
        let parent = try makeTemporaryDirectory("tsmfs-vtpm")
        defer { removeTree(parent) }
        let configuration = VTPMConfiguration(stateDirectory: parent + "/tpm", programDirectory: parent)
        let error = #expect(throws: VTPMError.self) {
            try VirtualTPM.start(configuration, logger: Logger(label: "test"))
        }
        #expect(error == .swtpmMissing(program: parent + "/swtpm_setup"))
        #expect(error?.description.contains("swtpm and swtpm-tools") == true)
    }

    @Test("A state directory that is a link or another user's is refused")
    func stateDirectory() throws {
        let parent = try makeTemporaryDirectory("tsmfs-vtpm")
        defer { removeTree(parent) }
        #expect(symlink(parent, parent + "/link") == 0)
        #expect(throws: VTPMError.self) {
            try VirtualTPM.start(VTPMConfiguration(stateDirectory: parent + "/link"), logger: Logger(label: "test"))
        }
        #expect(throws: VTPMError.stateDirectory(path: "relative", reason: "must be an absolute path without commas")) {
            try VirtualTPM.start(VTPMConfiguration(stateDirectory: "relative"), logger: Logger(label: "test"))
        }
    }
}

/// Where the RSA modulus starts in a TPM2B_PUBLIC of an RSA key with a symmetric scheme (the
/// EK template): after size, type, nameAlg, attributes, authPolicy, symmetric (6), scheme (2),
/// keyBits, exponent, unique.size.
func modulusOffset(_ area: [UInt8]) throws -> Int {
    let policy = Int(area[10]) << 8 | Int(area[11])
    return 12 + policy + 6 + 2 + 2 + 4 + 2
}
