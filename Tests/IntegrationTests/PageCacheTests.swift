import Foundation
import Glibc
import Testing
import TestSupport

/// Register files come from the kernel's page cache (DECISIONS.md, "Page cache"): every read that
/// starts after a change returned sees the change, through every face, on fresh opens, on kept
/// descriptors and through a shared mapping, while another process reads the same files.
@Suite("Page cache: no stale read", .needsMount)
struct PageCacheTests {
    /// `rtmr2` through its faces in a TDX sysroot; report0 shows it at 816..<864.
    struct Faces {
        let rfc, merged, report0, otherLive: String

        init(_ mount: MountedTSMFS) {
            rfc = mount.path("sys/kernel/tsm/tdx/rtmr2/digest")
            merged = mount.path("sys/devices/virtual/misc/tdx_guest/measurements/rtmr2:sha384")
            report0 = mount.path("sys/kernel/tsm/tdx/report0")
            otherLive = mount.path("sys/kernel/tsm/tdx/rtmr3/digest")
        }

        var all: [String] { [rfc, merged, report0, otherLive] }
    }

    @Test(
        """
        3000 extends alternating between the RFC v2 and the 6.16 file, another process reading and another \
        extending: every later read, through every face, sees each
        """
    )
    func noStaleRead() throws {
        let mount = try MountedTSMFS(["--guest", "tdx"], sysroot: true)
        let faces = Faces(mount)
        let baseline = try #require(Sys.readFile(faces.report0).value)
        let otherLive = try #require(Sys.readFile(faces.otherLive).value)
        var expected = try #require(Sys.readFile(faces.rfc).value)
        try #require(baseline.count == 1024 && expected.count == 48)

        // Descriptors kept open for reading: their reads are served from the page cache with no
        // OPEN to refresh anything, so only the invalidation can make them see a change.
        let kept = try faces.all.map { path in try #require(Sys.open(path, O_RDONLY).value) }
        defer { for fd in kept { close(fd) } }
        // A shared mapping of the RFC v2 file: only a page-cache file can be mapped (direct I/O
        // refuses mmap), so this also proves the cache is in use.
        let mapped = mmap(nil, 48, PROT_READ, MAP_SHARED, kept[0], 0)
        try #require(mapped != MAP_FAILED, "a register file could not be mapped: not served from the page cache")
        defer { munmap(mapped, 48) }
        let mapping = try #require(mapped).assumingMemoryBound(to: UInt8.self)

        // Another process reads every face in a loop the whole time, and a third extends rtmr1 of
        // the same provider: its changes drop the same files' pages, concurrently with ours.
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/sh")
        let quoted = faces.all.map { "'\($0)'" }.joined(separator: " ")
        reader.arguments = ["-c", "while :; do cat \(quoted) > /dev/null || exit 1; done"]
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sh")
        writer.arguments = [
            "-c",
            "while :; do head -c 48 /dev/zero > '\(mount.path("sys/kernel/tsm/tdx/rtmr1/digest"))' || exit 1; done",
        ]
        try reader.run()
        try writer.run()
        defer {
            for process in [reader, writer] where process.isRunning { kill(process.processIdentifier, SIGKILL) }
            reader.waitUntilExit()
            writer.waitUntilExit()
        }
        /// report0 without RTMR1 (768..<816), which the other writer moves, nor what covers it:
        /// TEE_INFO_HASH (80..<128) and the MAC (224..<256). RTMR2 at 816 shows a stale read.
        func masked(_ bytes: [UInt8]?) -> [UInt8]? {
            guard var bytes, bytes.count == 1024 else { return bytes }
            for range in [80..<128, 224..<256, 768..<816] {
                bytes.replaceSubrange(range, with: [UInt8](repeating: 0, count: range.count))
            }
            return bytes
        }

        var stale: [String] = []
        for iteration in 0..<3000 where stale.count < 5 {
            var data = [UInt8](repeating: UInt8(truncatingIfNeeded: iteration), count: 48)
            data[0] = UInt8(truncatingIfNeeded: iteration >> 8)
            let target = iteration % 2 == 0 ? faces.rfc : faces.merged
            let written = Sys.writeFile(target, data).value
            guard written == 48 else {
                stale.append("extend \(iteration) through \(target) wrote \(String(describing: written))")
                break
            }
            expected = extendDigest("sha384", expected, data)
            var report = baseline
            report.replaceSubrange(816..<864, with: expected)
            let wants = [expected, expected, masked(report), otherLive]
            for (index, path) in faces.all.enumerated() {
                let fresh = Sys.readFile(path).value
                if (index == 2 ? masked(fresh) : fresh) != wants[index] {
                    stale.append("extend \(iteration): open+read of \(path) was stale")
                }
                let again = Sys.pread(kept[index], count: 4096).value
                if (index == 2 ? masked(again) : again) != wants[index] {
                    stale.append("extend \(iteration): pread on a kept descriptor of \(path) was stale")
                }
            }
            if Array(UnsafeBufferPointer(start: mapping, count: 48)) != expected {
                stale.append("extend \(iteration): the shared mapping of \(faces.rfc) was stale")
            }
        }
        #expect(stale.isEmpty, "\(stale)")
        #expect(reader.isRunning, "the concurrent reader failed")
        #expect(writer.isRunning, "the concurrent writer failed")
        for process in [reader, writer] {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        #expect(mount.stop() == 0)
    }

    @Test("what must not be cached stays direct: hash_algo, and writers (no write-through)")
    func uncached() throws {
        let mount = try MountedTSMFS(["--guest", "tdx"], sysroot: true)
        let hashAlgo = mount.path("sys/kernel/tsm/tdx/rtmr1/hash_algo")
        // st_size 4096 with 6 bytes: a page-cache file would read 4096 bytes (NULs after sha384).
        #expect(Sys.stat(hashAlgo).value?.st_size == 4096)
        #expect(Sys.readFile(hashAlgo).value == Array("sha384".utf8))
        let fd = try #require(Sys.open(hashAlgo, O_RDONLY).value)
        #expect(mmap(nil, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED, "hash_algo must stay direct I/O")
        close(fd)

        // A read-write descriptor reads back the new digest, never the 48 bytes it wrote.
        let digest = mount.path("sys/kernel/tsm/tdx/rtmr1/digest")
        let before = try #require(Sys.readFile(digest).value)
        let data = [UInt8](repeating: 0x5A, count: 48)
        let rw = try #require(Sys.open(digest, O_RDWR).value)
        #expect(Sys.pwrite(rw, data).value == 48)
        let after = Sys.pread(rw, count: 4096).value
        close(rw)
        #expect(after == extendDigest("sha384", before, data))
        #expect(Sys.readFile(digest).value == after)
        #expect(mount.stop() == 0)
    }

    @Test("--no-page-cache: every register file is direct I/O again (no mapping), reads still exact")
    func optOut() throws {
        let mount = try MountedTSMFS(["--guest", "tdx", "--no-page-cache"], sysroot: true)
        let digest = mount.path("sys/kernel/tsm/tdx/rtmr2/digest")
        let fd = try #require(Sys.open(digest, O_RDONLY).value)
        #expect(mmap(nil, 48, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED, "a register file was mapped: cached")
        let before = try #require(Sys.pread(fd, count: 4096).value)
        let data = [UInt8](repeating: 0x11, count: 48)
        #expect(Sys.writeFile(digest, data).value == 48)
        #expect(Sys.pread(fd, count: 4096).value == extendDigest("sha384", before, data))
        close(fd)
        #expect(mount.stop() == 0)
    }

    @Test("ctl set and ctl reboot drop the cached pages before they return")
    func controlChanges() throws {
        let socket = NSTemporaryDirectory() + "tsmfs-pagecache-\(getpid()).sock"
        let mount = try MountedTSMFS(["--guest", "tdx", "--control", socket], sysroot: true)
        let rfc = mount.path("sys/kernel/tsm/tdx/mrconfigid/digest")
        let merged = mount.path("sys/devices/virtual/misc/tdx_guest/measurements/mrconfigid")
        let report0 = mount.path("sys/kernel/tsm/tdx/report0")
        let rtmr0 = mount.path("sys/kernel/tsm/tdx/rtmr0/digest")
        let kept = try [rfc, merged, report0, rtmr0].map { try #require(Sys.open($0, O_RDONLY).value) }
        defer { for fd in kept { close(fd) } }
        let bootRTMR = try #require(Sys.pread(kept[3], count: 4096).value)
        for round in 0..<20 {
            let value = [UInt8](repeating: UInt8(round + 1), count: 48)
            #expect(Sys.pread(kept[0], count: 4096).value != value)  // fill the cache with the old value
            let set = try shell(
                """
                '\(tsmfsBinary())' ctl --socket '\(socket)' set tdx/mrconfigid \
                \(value.map { String(format: "%02x", $0) }.joined())
                """
            )
            #expect(set.status == 0, "\(set.stderr)")
            #expect(Sys.pread(kept[0], count: 4096).value == value)
            #expect(Sys.pread(kept[1], count: 4096).value == value)
            #expect(Sys.pread(kept[2], count: 4096).value.map { Array($0[576..<624]) } == value)
            #expect(Sys.readFile(rfc).value == value)

            #expect(Sys.writeFile(rtmr0, value).value == 48)
            #expect(Sys.pread(kept[3], count: 4096).value == extendDigest("sha384", bootRTMR, value))
            let reboot = try shell("'\(tsmfsBinary())' ctl --socket '\(socket)' reboot")
            #expect(reboot.status == 0, "\(reboot.stderr)")
            #expect(Sys.pread(kept[3], count: 4096).value == bootRTMR)
            #expect(Sys.pread(kept[2], count: 4096).value.map { Array($0[720..<768]) } == bootRTMR)
        }
        #expect(mount.stop() == 0)
    }
}
