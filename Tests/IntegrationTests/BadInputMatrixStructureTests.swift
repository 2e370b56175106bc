import Foundation
import Glibc
import Testing
import TestSupport

/// The bad-input matrix on `hash_algo` files and on the files and directories of the tree's
/// structure: the rest of ``BadInputMatrixTests``.
extension BadInputMatrixTests {
    /// `hash_algo`: 0444 text, the name without a newline, EOF after it; never writable.
    func hashAlgo(_ relative: String, _ name: String) {
        let text = Array(name.utf8)
        for (label, flag) in [
            ("O_WRONLY", O_WRONLY), ("O_RDWR", O_RDWR), ("O_WRONLY|O_TRUNC", O_WRONLY | O_TRUNC),
            ("O_WRONLY|O_APPEND", O_WRONLY | O_APPEND),
        ] {
            check(
                "open \(label)", relative, observed: withOpen(relative, flag) { _ in [] }, expected: [.failed(.EACCES)])
        }
        for offset: Int64 in [0, 1, Int64(text.count - 1), Int64(text.count), 4095, 4096, 1 << 40] {
            for count in [0, 1, 4096, 65536] {
                let start = min(Int(min(offset, Int64(text.count))), text.count)
                let expected = count == 0 ? [] : Array(text[start..<min(text.count, start + count)])
                check(
                    "pread \(count) at \(offset)", relative,
                    observed: withOpen(relative, O_RDONLY) { fd in
                        [Outcome(Sys.pread(fd, count: count, offset: offset))]
                    },
                    expected: [.ok, .read(expected)])
            }
        }
        fileStructure(relative)
    }

    /// A file cannot be removed, renamed, linked, or opened as a directory.
    func fileStructure(_ relative: String) {
        let directory = (relative as NSString).deletingLastPathComponent
        check("unlink", relative, observed: Outcome(status: unlink(path(relative))), expected: .failed(.EPERM))
        check(
            "rename", relative, observed: Outcome(status: rename(path(relative), path(directory + "/renamed"))),
            expected: .failed(.EPERM))
        // Over an existing file: the sibling of a directory register's file, else a file elsewhere.
        let other =
            relative.hasSuffix("/digest")
            ? directory + "/hash_algo"
            : relative.hasSuffix("/hash_algo") ? directory + "/digest" : "tdx/rtmr0/digest"
        check(
            "rename over \(other)", relative, observed: Outcome(status: rename(path(relative), path(other))),
            expected: .failed(.EPERM))
        check(
            "link", relative, observed: Outcome(status: link(path(relative), path(directory + "/hardlink"))),
            expected: .failed(.EPERM))
        check(
            "open O_DIRECTORY", relative, observed: withOpen(relative, O_RDONLY | O_DIRECTORY) { _ in [] },
            expected: [.failed(.ENOTDIR)])
    }

    /// Directories: EISDIR for writing; nothing can be made, removed or renamed in or as them.
    func directoryCases(_ relative: String) {
        let label = relative.isEmpty ? "/" : relative
        for (name, flag) in [
            ("O_WRONLY", O_WRONLY), ("O_RDWR", O_RDWR), ("O_WRONLY|O_TRUNC", O_WRONLY | O_TRUNC),
            ("O_WRONLY|O_APPEND", O_WRONLY | O_APPEND),
        ] {
            check("open \(name)", label, observed: withOpen(relative, flag) { _ in [] }, expected: [.failed(.EISDIR)])
        }
        check(
            "open O_RDONLY|O_DIRECTORY", label, observed: withOpen(relative, O_RDONLY | O_DIRECTORY) { _ in [] },
            expected: [.ok])
        let inside = relative.isEmpty ? "" : relative + "/"
        check(
            "mkdir", label, observed: Outcome(status: mkdir(path(inside + "newdir"), 0o755)), expected: .failed(.EPERM))
        check(
            "create", label, observed: withOpen(inside + "newfile", O_WRONLY | O_CREAT) { _ in [] },
            expected: [.failed(.EACCES)])
        check(
            "create O_EXCL", label, observed: withOpen(inside + "newfile", O_RDWR | O_CREAT | O_EXCL) { _ in [] },
            expected: [.failed(.EACCES)])
        check(
            "mknod fifo", label, observed: Outcome(status: mknod(path(inside + "fifo"), S_IFIFO | 0o600, 0)),
            expected: .failed(.EACCES))
        check(
            "symlink", label, observed: Outcome(status: symlink("digest", path(inside + "symlink"))),
            expected: .failed(.EPERM))
        guard !relative.isEmpty else { return }  // the mount root itself is busy, not EPERM
        check("rmdir", label, observed: Outcome(status: rmdir(path(relative))), expected: .failed(.EPERM))
        check(
            "rename", label, observed: Outcome(status: rename(path(relative), path(relative + "-renamed"))),
            expected: .failed(.EPERM))
    }
}
