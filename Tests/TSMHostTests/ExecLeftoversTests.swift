import Glibc
import Testing
import TestSupport
@testable import TSMHost

/// Stale exec directories are removed, and only they; mountinfo's octal escapes are undone.
@Suite struct ExecLeftoversTests {
    /// A pid no process can have: above the kernel's largest pid_max (2^22).
    static let deadPID = pid_t(Int32.max)

    @Test func removesOnlyTheEmptyDirectoriesOfGoneExecs() throws {
        let directory = try makeTemporaryDirectory("tsmhost-leftovers")
        defer { removeTree(directory) }
        let stale = "tsmfs-exec.\(Self.deadPID).AbC123"
        let staleWithoutRoot = "tsmfs-exec.\(Self.deadPID).XyZ789"
        let live = "tsmfs-exec.\(getpid()).LiVe00"
        let busy = "tsmfs-exec.\(Self.deadPID).BuSy00"
        let unshaped = [
            "tsmfs-exec.\(Self.deadPID)", "tsmfs-exec.x.AbC123", "tsmfs-exec.\(Self.deadPID).a.b",
            "other.\(Self.deadPID).AbC123",
        ]
        let file = "tsmfs-exec.\(Self.deadPID).FiLe00"
        for name in [stale, live, busy] + unshaped {
            #expect(mkdir(directory + "/" + name, 0o700) == 0)
            #expect(mkdir(directory + "/" + name + "/root", 0o700) == 0)
        }
        #expect(mkdir(directory + "/" + staleWithoutRoot, 0o700) == 0)
        let fd = open(directory + "/" + busy + "/root/left", O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        #expect(fd >= 0)
        close(fd)
        let fileFD = open(directory + "/" + file, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        #expect(fileFD >= 0)
        close(fileFD)

        ExecLeftovers.removeStaleDirectories(in: directory)

        let remaining = Shadows.entries(of: directory) ?? []
        #expect(remaining == ([live, busy, file] + unshaped).sorted())
        #expect(Shadows.entries(of: directory + "/" + busy + "/root") == ["left"])
    }

    @Test func aMissingDirectoryIsNoError() {
        ExecLeftovers.removeStaleDirectories(in: "/nonexistent-tsmhost-\(getpid())")
    }

    @Test(arguments: [
        ("/plain", "/plain"), ("/with\\040space", "/with space"), ("/tab\\011and\\012newline", "/tab\tand\nnewline"),
        ("/back\\134slash", "/back\\slash"), ("/short\\04", "/short\\04"), ("/not\\9990octal", "/not\\9990octal"),
    ])
    func unescapesMountinfo(escaped: String, path: String) {
        #expect(ExecLeftovers.unescape(escaped) == path)
    }

    @Test func entriesAreSortedWithoutDots() throws {
        let directory = try makeTemporaryDirectory("tsmhost-entries")
        defer { removeTree(directory) }
        #expect(Shadows.entries(of: directory) == [])
        for name in ["b", "a", "c"] { #expect(mkdir(directory + "/" + name, 0o700) == 0) }
        #expect(Shadows.entries(of: directory) == ["a", "b", "c"])
        #expect(Shadows.entries(of: directory + "/missing") == nil)
    }
}

/// Removes what these tests made: directories two levels deep and files.
func removeTree(_ path: String) {
    for name in Shadows.entries(of: path) ?? [] {
        let child = path + "/" + name
        if unlink(child) != 0 { removeTree(child) }
    }
    rmdir(path)
}
