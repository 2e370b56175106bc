import ArgumentParser
import SystemPackage
import TSMEvidence
import TSMGuest
#if canImport(Glibc)
import Glibc
#endif

/// `tsmfs certs`: the mock authority's certificates as files a verifier reads.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Write the mock authority's certificates (PEM) into a directory.",
        discussion: """
            --guest sev-snp writes ark.pem, ask.pem and vcek.pem, the names and layout \
            `snpguest verify certs DIR` and `snpguest verify attestation DIR report.bin` read. \
            --guest tdx writes root.pem, platform-ca.pem and pck.pem. DIR is created if missing; \
            existing files of those names are replaced. Prints the paths written.
            """
    )

    @OptionGroup var authority: AuthorityOptions

    @Option(help: ArgumentHelp("The directory to write into.", valueName: "DIR"))
    var out: String

    func run() throws {
        let guest = authority.guest.definition
        let files: [CertificateFile]
        do {
            files = try guest.certificates(seed: authority.seed)
        } catch {
            throw Failure(error.description)
        }
        guard !files.isEmpty else {
            throw Failure("--guest \(guest.name) has no certificate hierarchy; `tsmfs trust-anchor --guest \(guest.name)` prints what a verifier trusts")
        }
        let directory = FilePath(out)
        do {
            try FileDescriptor.makeDirectory(directory)
        } catch Errno.fileExists {
            // Already there: write into it.
        } catch {
            throw Failure("cannot create \(out): \(error)")
        }
        for file in files {
            let (name, text) = (file.name, file.pem)
            let path = directory.appending(name)
            do {
                let file = try FileDescriptor.open(path, .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite, .groupRead, .otherRead])
                try file.closeAfter { _ = try file.writeAll(Array(text.utf8)) }
            } catch {
                throw Failure("cannot write \(path): \(error)")
            }
            print(path.string)
        }
    }
}

extension FileDescriptor {
    /// mkdir(2) with mode 0755.
    static func makeDirectory(_ path: FilePath) throws(Errno) {
        let result = path.withPlatformString { mkdir($0, 0o755) }
        if result != 0 { throw Errno(rawValue: errno) }
    }
}
