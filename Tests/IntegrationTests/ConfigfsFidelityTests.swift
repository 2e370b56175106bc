import Foundation
import Glibc
import Testing
import TestSupport

/// configfs-tsm report entries where FUSE and Swift strings could drift from configfs (issue 11,
/// class 11): names past NAME_MAX, names that are not UTF-8, O_APPEND on inblob, files of a
/// removed entry.
@Suite("configfs fidelity", .serialized, .needsMount)
struct ConfigfsFidelityTests {
    func python(_ mount: MountedTSMFS, _ script: String) throws -> ShellResult {
        try shell("cd '\(mount.path("sys/kernel/config/tsm/report"))' && python3 -c '\(script)' 2>&1")
    }

    @Test("a name past NAME_MAX is ENAMETOOLONG; 255 bytes are fine")
    func nameMax() throws {
        let mount = try MountedTSMFS(["--guest", "tdx"], sysroot: true)
        let r = try python(
            mount,
            """
            import os, errno
            os.mkdir("a" * 255); print("255 ok")
            try: os.mkdir("b" * 256)
            except OSError as e: print(errno.errorcode[e.errno])
            """)
        #expect(r.text == "255 ok\nENAMETOOLONG\n", "\(r.text)")
        #expect(mount.stop() == 0)
    }

    @Test("names that are not UTF-8 never collide: refused with EILSEQ, and a lookup finds nothing")
    func notUTF8() throws {
        let mount = try MountedTSMFS(["--guest", "tdx"], sysroot: true)
        let r = try python(
            mount,
            """
            import os, errno
            for name in (b"\\xff", b"\\xfe"):
                try: os.mkdir(name); print("made")
                except OSError as e: print(errno.errorcode[e.errno])
            try: os.stat(b"\\xff")
            except OSError as e: print(errno.errorcode[e.errno])
            print(len(os.listdir(".")))
            """)
        #expect(r.text == "EILSEQ\nEILSEQ\nENOENT\n0\n", "\(r.text)")
        #expect(mount.stop() == 0)
    }

    @Test("a second O_APPEND open of inblob writes at its own position, as configfs ignores O_APPEND")
    func appendInblob() throws {
        let mount = try MountedTSMFS(["--guest", "tdx"], sysroot: true)
        let r = try python(
            mount,
            """
            import os
            os.mkdir("q")
            for fill in (b"\\x01", b"\\x02"):
                fd = os.open("q/inblob", os.O_WRONLY | os.O_APPEND)
                os.write(fd, fill * 64); os.close(fd)
            print(open("q/generation").read().strip())
            quote = open("q/outblob", "rb").read()
            print(quote[48 + 520:48 + 584] == b"\\x02" * 64)
            """)
        #expect(r.text == "2\nTrue\n", "\(r.text)")
        #expect(mount.stop() == 0)
    }

    @Test("files kept open on a removed entry: a first read or a store answers ENOENT, and no report is made")
    func removedEntry() throws {
        let mount = try MountedTSMFS(["--guest", "tdx"], sysroot: true)
        let r = try python(
            mount,
            """
            import os, errno
            os.mkdir("q")
            with open("q/inblob", "wb") as f: f.write(b"\\x00" * 64)
            out = os.open("q/outblob", os.O_RDONLY)
            gen = os.open("q/generation", os.O_RDONLY)
            os.rmdir("q")
            for fd in (out, gen):
                try: os.read(fd, 8192); print("read")
                except OSError as e: print(errno.errorcode[e.errno])
            """)
        #expect(r.text == "ENOENT\nENOENT\n", "\(r.text)")
        #expect(mount.stop() == 0)
    }
}
