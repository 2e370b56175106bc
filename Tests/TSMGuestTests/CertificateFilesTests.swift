import Glibc
import Testing
import TSMGuest

@Suite("tsmfs certs --out: writing certificates without following links")
struct CertificateFilesTests {
    let files = [CertificateFile("ark.pem", "ARK\n"), CertificateFile("ask.pem", "ASK\n")]

    /// A fresh directory under /tmp, removed by `remove`.
    func scratch() throws -> String {
        var template = Array("/tmp/tsmfs-certs-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        try #require(made != nil)
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func remove(_ path: String) { _ = system("rm -rf '\(path)'") }

    func contents(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        while case let byte = fgetc(file), byte != EOF { bytes.append(UInt8(byte)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    func lstatMode(_ path: String) -> mode_t? {
        var status = stat()
        return lstat(path, &status) == 0 ? status.st_mode : nil
    }

    @Test("a missing directory is created; each file is regular, mode 0644, with its PEM; the paths come back in order")
    func writes() throws {
        let root = try scratch()
        defer { remove(root) }
        let paths = try CertificateFiles.write(files, into: root + "/out")
        #expect(paths == [root + "/out/ark.pem", root + "/out/ask.pem"])
        #expect(contents(root + "/out/ark.pem") == "ARK\n")
        #expect(contents(root + "/out/ask.pem") == "ASK\n")
        #expect(lstatMode(root + "/out/ark.pem") == S_IFREG | 0o644)
        #expect(lstatMode(root + "/out").map { $0 & 0o7777 } == 0o755 & ~currentUmask())
        // Written again, existing files are replaced and no temporary names stay behind.
        _ = try CertificateFiles.write([CertificateFile("ark.pem", "NEW\n")], into: root + "/out")
        #expect(contents(root + "/out/ark.pem") == "NEW\n")
        #expect(system("test $(ls -A '\(root)/out' | wc -l) -eq 2") == 0)
    }

    @Test("a planted ark.pem -> victim symlink is replaced by a regular file; the victim is untouched")
    func plantedSymlink() throws {
        let root = try scratch()
        defer { remove(root) }
        #expect(
            system(
                """
                mkdir '\(root)/out' && printf secret > '\(root)/victim' && ln -s '\(root)/victim' \
                '\(root)/out/ark.pem'
                """
            ) == 0)
        _ = try CertificateFiles.write(files, into: root + "/out")
        #expect(contents(root + "/victim") == "secret")
        #expect(lstatMode(root + "/out/ark.pem").map { $0 & S_IFMT } == S_IFREG)
        #expect(contents(root + "/out/ark.pem") == "ARK\n")
    }

    @Test("a DIR that is a symlink is refused, with or without a trailing slash, and nothing is written through it")
    func directorySymlink() throws {
        let root = try scratch()
        defer { remove(root) }
        #expect(system("mkdir '\(root)/real' && ln -s '\(root)/real' '\(root)/link'") == 0)
        for directory in [root + "/link", root + "/link/"] {
            #expect(throws: CertificateFiles.Failure.symlink(directory: directory)) {
                try CertificateFiles.write(files, into: directory)
            }
        }
        #expect(system("test -z \"$(ls -A '\(root)/real')\"") == 0)
        #expect(CertificateFiles.Failure.symlink(directory: "d").description.hasPrefix("d is a symbolic link"))
    }

    /// The process's umask, from /proc (umask(2) cannot read it without changing it).
    func currentUmask() -> mode_t {
        let status = contents("/proc/self/status") ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Umask:") } ?? "Umask: 0022"
        return mode_t(line.dropFirst(6).trimmingPrefix(while: \.isWhitespace), radix: 8) ?? 0o022
    }
}
