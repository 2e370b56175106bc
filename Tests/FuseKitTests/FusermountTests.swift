import CFuse
@testable import FuseKit
import Glibc
import SystemPackage
import Testing

/// The parts of the fusermount3 handshake that need no mount: finding the helper, the option
/// string, the SCM_RIGHTS receive, and a helper that exits without sending.
@Suite("fusermount3 handshake")
struct FusermountTests {
    /// A fresh temporary directory; the test removes what it made.
    private func temporaryDirectory() throws -> String {
        let template = try #require(strdup("/tmp/fusekit-fusermount-XXXXXX"))
        defer { free(template) }
        let made = try #require(mkdtemp(template))
        return String(decoding: UnsafeRawBufferPointer(start: made, count: strlen(made)), as: UTF8.self)
    }

    @Test func theHelperIsFoundOnlyAsAnExecutableFileOnTheSearchPath() throws {
        let directory = try temporaryDirectory()
        defer {
            unlink(directory + "/fusermount3")
            rmdir(directory)
        }
        #expect(Fusermount.locate(searchPath: "/nonexistent:\(directory)") == nil)
        mkdir(directory + "/fusermount3", 0o755)
        #expect(Fusermount.locate(searchPath: directory) == nil, "a directory is not the helper")
        rmdir(directory + "/fusermount3")
        let fd = open(directory + "/fusermount3", O_CREAT | O_WRONLY, 0o644)
        close(fd)
        #expect(Fusermount.locate(searchPath: directory) == nil, "not executable")
        chmod(directory + "/fusermount3", 0o755)
        #expect(Fusermount.locate(searchPath: "/nonexistent:\(directory)") == directory + "/fusermount3")
    }

    @Test func optionsJoinAndACommaIsRefused() throws {
        #expect(
            try Fusermount.optionString(["fsname=tsmfs", "default_permissions", "max_read=4096"])
                == "fsname=tsmfs,default_permissions,max_read=4096")
        #expect(throws: FuseError.badMountOption("fsname=a,allow_other")) {
            try Fusermount.optionString(["fsname=a,allow_other"])
        }
        #expect(throws: FuseError.badMountOption("")) { try Fusermount.optionString([""]) }
        #expect(throws: FuseError.self) {
            try Fusermount.optionString([String(repeating: "x", count: Fusermount.maxOptionsLength + 1)])
        }
    }

    @Test func aDescriptorSentWithSCMRightsArrivesCloseOnExec() throws {
        var pair: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { close(pair[0]); close(pair[1]) }
        var pipeEnds: [Int32] = [-1, -1]
        try #require(pipe(&pipeEnds) == 0)
        defer { close(pipeEnds[0]) }
        #expect(cfuse_send_fd(pair[0], pipeEnds[1]) == 0)
        close(pipeEnds[1])
        let received = cfuse_receive_fd(pair[1])
        try #require(received >= 0)
        defer { close(received) }
        #expect(fcntl(received, F_GETFD) & FD_CLOEXEC != 0)
        #expect(write(received, "ok", 2) == 2, "the received descriptor is the pipe's write end")
        var buffer = [UInt8](repeating: 0, count: 2)
        #expect(read(pipeEnds[0], &buffer, 2) == 2 && buffer == Array("ok".utf8))
    }

    @Test func anEndOfStreamOrABareByteIsNoDescriptor() throws {
        var pair: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { close(pair[1]) }
        #expect(write(pair[0], "x", 1) == 1)
        #expect(cfuse_receive_fd(pair[1]) == -3)
        close(pair[0])
        #expect(cfuse_receive_fd(pair[1]) == -2)
    }

    @Test func aHelperThatExitsWithoutSendingIsReportedWithItsStatus() {
        #expect(
            throws: FuseError.fusermountFailed(
                path: "/nonexistent-mp",
                reason: "it exited with status 1 without sending a descriptor; its message, if any, is above")
        ) {
            _ = try Fusermount.mount("/nonexistent-mp", options: ["fsname=t"], executable: "/bin/false")
        }
        #expect(
            throws: FuseError.fusermountFailed(
                path: "/nonexistent-mp", reason: "cannot run /nonexistent/fusermount3: No such file or directory")
        ) {
            _ = try Fusermount.mount("/nonexistent-mp", options: ["fsname=t"], executable: "/nonexistent/fusermount3")
        }
    }

    @Test func aMissingHelperSaysWhatToInstall() {
        let text = FuseError.fusermountMissing(path: "/mnt/tsm", device: .permissionDenied).description
        #expect(text.contains("/dev/fuse cannot be opened (Permission denied)"))
        #expect(text.contains("fusermount3"))
        #expect(text.contains("install fuse3"))
        #expect(Fusermount.describe(0x0100) == "it exited with status 1")
        #expect(Fusermount.describe(9) == "it was killed by signal 9")
    }
}
