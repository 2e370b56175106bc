import ArgumentParser
import TSMGuest
import TSMGuests

/// `tsmfs certs`: the mock authority's certificates as files a verifier reads.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Write the mock authority's certificates (PEM) into a directory.",
        discussion: """
            \(Guests.catalogue.certificatesSummaries) DIR is created if missing (a DIR that is a symbolic link is \
            refused); existing files or links of those names are replaced, never followed. Prints the paths written.
            """
    )

    @OptionGroup var authority: AuthorityOptions

    @Option(help: ArgumentHelp("The directory to write into.", valueName: "DIR"))
    var out: String

    @Option(name: .customLong("signing-key"), help: ArgumentHelp("sev-snp: vcek (default) or vlek.", valueName: "KEY"))
    var signingKey: String?

    /// The guest options given.
    var options: GuestOptionValues {
        var values = GuestOptionValues()
        if let signingKey { values.set("--signing-key", signingKey) }
        return values
    }

    func validate() throws {
        do {
            try Guests.catalogue.check(options, for: authority.guest.definition)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        let guest = authority.guest.definition
        let files: [CertificateFile]
        do {
            files = try guest.certificates(seed: authority.seed, options: options)
        } catch {
            throw Failure(error.description)
        }
        guard !files.isEmpty else {
            throw Failure(
                """
                --guest \(guest.name) has no certificate hierarchy; `tsmfs trust-anchor --guest \(guest.name)` \
                prints what a verifier trusts
                """
            )
        }
        do throws(CertificateFiles.Failure) {
            for path in try CertificateFiles.write(files, into: out) { print(path) }
        } catch {
            throw Failure(error.description)
        }
    }
}
