import FuseKit
import Glibc
import SystemPackage
import Testing

/// /etc/fuse.conf read as fusermount3's read_conf and parse_line read it.
@Suite struct FuseConfigurationTests {
    @Test func defaults() {
        let configuration = FuseConfiguration(parsing: "")
        #expect(!configuration.userAllowOther)
        #expect(configuration.mountMax == 1000)
        #expect(configuration.skippedLines.isEmpty)
        #expect(configuration == FuseConfiguration())
    }

    @Test func debiansFileWithItsCommentedOption() {
        let text = """
            # The file /etc/fuse.conf allows for the following parameters:
            #
            # user_allow_other - Using the allow_other mount option works fine as root, ...
            #user_allow_other

            # mount_max = n - this option sets the maximum number of mounts.
            #mount_max = 1000

            """
        let configuration = FuseConfiguration(parsing: text)
        #expect(!configuration.userAllowOther)
        #expect(configuration.mountMax == 1000)
        #expect(configuration.skippedLines.isEmpty)
    }

    @Test(arguments: [
        "user_allow_other\n", "  user_allow_other\t\n", "user_allow_other # allow it\n",
        "\tuser_allow_other\r\n", "# first\n\nuser_allow_other\n",
    ])
    func userAllowOtherIsRead(text: String) {
        #expect(FuseConfiguration(parsing: text).userAllowOther)
    }

    @Test(arguments: [
        "user_allow_other", "user_allow_others\n", "user_allow_other=1\n", "user_allow_other yes\n",
        "#user_allow_other\n", "USER_ALLOW_OTHER\n", "user allow other\n",
    ])
    func userAllowOtherIsNotRead(text: String) {
        #expect(!FuseConfiguration(parsing: text).userAllowOther)
    }

    @Test(arguments: [
        ("mount_max = 5\n", 5), ("mount_max=7\n", 7), ("  mount_max   =\t12  # twelve\n", 12),
        ("mount_max = 0x10\n", 16), ("mount_max = 010\n", 8), ("mount_max = -3\n", -3),
        ("mount_max = +9\n", 9), ("mount_max = 42abc\n", 42), ("mount_max = 1\nmount_max = 2\n", 2),
        ("mount_max = 2147483647\n", Int32.max),
    ])
    func mountMaxIsRead(text: String, value: Int32) {
        let configuration = FuseConfiguration(parsing: text)
        #expect(configuration.mountMax == value)
        #expect(configuration.skippedLines.isEmpty)
    }

    @Test(arguments: [
        "mount_max\n", "mount_max =\n", "mount_max = x\n", "mount_max: 5\n", "mount_max = 2147483648\n",
        "mountmax = 5\n",
    ])
    func malformedMountMaxIsSkipped(text: String) {
        let configuration = FuseConfiguration(parsing: text)
        #expect(configuration.mountMax == 1000)
        #expect(configuration.skippedLines == [1])
    }

    @Test func unknownLinesAreSkippedWithTheirNumbers() {
        let configuration = FuseConfiguration(parsing: "# c\nallow_root\n\nuser_allow_other\nbogus # x\n")
        #expect(configuration.userAllowOther)
        #expect(configuration.skippedLines == [2, 5])
    }

    @Test func aLastLineWithoutNewlineIsIgnoredAsFusermountDoes() {
        let configuration = FuseConfiguration(parsing: "mount_max = 3\nuser_allow_other")
        #expect(configuration.mountMax == 3)
        #expect(!configuration.userAllowOther)
        #expect(configuration.skippedLines == [2])
    }

    @Test func aLineOver255BytesIsSkippedWhole() {
        let fits = String(repeating: " ", count: 254 - "user_allow_other".count) + "user_allow_other\n"
        #expect(fits.utf8.count == 255)
        #expect(FuseConfiguration(parsing: fits).userAllowOther)
        let tooLong = " " + fits
        let configuration = FuseConfiguration(parsing: tooLong + "mount_max = 4\n")
        #expect(!configuration.userAllowOther)
        #expect(configuration.mountMax == 4)
        #expect(configuration.skippedLines == [1])
    }

    @Test func aLineWithNULIsSkipped() {
        let bytes = Array("user_allow_other".utf8) + [0, 0x0A]
        #expect(!FuseConfiguration(parsing: bytes).userAllowOther)
    }

    @Test func onlyTheFirst64KiBAreRead() {
        let filler = Array(repeating: Array("# filler\n".utf8), count: FuseConfiguration.sizeLimit / 9).joined()
        let bytes = Array(filler) + Array("user_allow_other\n".utf8)
        #expect(bytes.count > FuseConfiguration.sizeLimit)
        #expect(!FuseConfiguration(parsing: bytes).userAllowOther)
        #expect(
            FuseConfiguration(parsing: Array(filler.prefix(9 * 111)) + Array("user_allow_other\n".utf8)).userAllowOther)
    }

    @Test func readsAFileAndTreatsAMissingOneAsDefaults() throws {
        var template = Array("/tmp/tsmfs-fuseconf.XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        try #require(fd >= 0)
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { unlink(path) }
        let text = Array("mount_max = 11\nuser_allow_other\n".utf8)
        #expect(write(fd, text, text.count) == text.count)
        close(fd)
        let configuration = try FuseConfiguration.read(path: path)
        #expect(configuration.userAllowOther)
        #expect(configuration.mountMax == 11)
        #expect(try FuseConfiguration.read(path: path + ".absent") == FuseConfiguration())
        #expect(throws: Errno.self) { try FuseConfiguration.read(path: "/tmp") }
    }
}
