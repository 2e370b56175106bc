import ArgumentParser
import TSMGuest
import TSMGuests
import TSMEvidence

/// `tsmfs verify`: checks a configfs-tsm outblob (and auxblob) end to end against a trust anchor
/// and prints what it vouches for.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Verify a TDX quote, a SEV-SNP report or a CCA token and print its registers and report data as JSON.",
        discussion: """
            \(Guests.catalogue.verificationSummaries) The anchor is the mock root \
            of --seed (default "tsmfs") unless --trust-anchor names a PEM file (for cca: the CPAK public key). Exits \
            0 only if every \
            check passes; otherwise names the failed check on stderr and exits 1. \(VTPMBundle.summary)
            """
    )

    @Argument(
        help: """
            The outblob: a TDX Quote v4, a SEV-SNP ATTESTATION_REPORT or a CCA attestation token; with --vtpm, the \
            bundle's directory (docs/verifiers.md, "vTPM evidence").
            """)
    var file: String

    @Option(help: ArgumentHelp("FILE is a vTPM bundle of this personality: azure, gcp or svsm.", valueName: "NAME"))
    var vtpm: String?

    @Option(help: ArgumentHelp("With --vtpm: the quote's qualifying data (hex, 1 to 64 bytes).", valueName: "HEX"))
    var nonce: String?

    @Option(help: ArgumentHelp("The guest that made FILE: \(Guests.catalogue.list).", valueName: "NAME"))
    var guest: GuestName

    @Option(help: ArgumentHelp("The SEV-SNP certificate table (auxblob); required for sev-snp.", valueName: "FILE"))
    var auxblob: String?

    @Option(help: ArgumentHelp("Trust the mock root derived from this seed.", valueName: "S"))
    var seed: String?

    @Option(
        name: .customLong("report-data"),
        help: ArgumentHelp(
            """
            Also require the evidence's report data to be these bytes (hex, up to 64 bytes, zero-padded to 64): \
            the nonce the relying party sent.
            """,
            valueName: "HEX"))
    var reportData: String?

    @Option(
        name: .customLong("trust-anchor"),
        help: ArgumentHelp("Trust this root certificate instead (PEM).", valueName: "PEM-FILE"))
    var trustAnchor: String?

    @Option(
        help: ArgumentHelp(
            "TDX: the collateral to check the quote's TCB with (QuoteCollateralV3 JSON).", valueName: "FILE"))
    var collateral: String?

    @Option(
        help: ArgumentHelp(
            """
            SEV-SNP: the ARK's certificate revocation list (DER, as `tsmfs kds` and AMD's KDS serve it at \
            /vcek/v1/{product}/crl or /vlek/v1/{product}/crl): refuse a chain whose ASK, ASVK, VCEK or VLEK it \
            lists, or a CRL not signed by the ARK or out of date.
            """,
            valueName: "FILE"))
    var crl: String?

    @Flag(
        name: .customLong("allow-debug"), help: "Policy: accept a debug guest (TDX TDATTRIBUTES.DEBUG, SEV-SNP DEBUG).")
    var allowDebug = false

    @Option(name: .customLong("min-tcb"), help: policyHelp("--min-tcb")) var minTCB: String?
    @Option(name: .customLong("signing-key"), help: policyHelp("--signing-key")) var signingKey: String?
    @Option(name: .customLong("lifecycle"), help: policyHelp("--lifecycle")) var lifecycle: String?
    @Option(name: .customLong("id-key-digest"), help: policyHelp("--id-key-digest")) var idKeyDigest: String?
    @Option(name: .customLong("author-key-digest"), help: policyHelp("--author-key-digest")) var authorDigest: String?
    @Option(name: .customLong("platform-config"), help: policyHelp("--platform-config")) var platformConfig: String?
    @Option(name: .customLong("sw-component"), help: policyHelp("--sw-component")) var swComponents: [String] = []

    @Flag(name: .customLong("no-policy"), help: "Skip the policy: check signatures, chain and report data only.")
    var noPolicy = false

    /// The arguments as given, for the library's rules and checks.
    var arguments: VerifyArguments {
        var arguments = VerifyArguments(guest: guest.definition, file: file)
        (arguments.vtpm, arguments.nonce, arguments.auxblob, arguments.seed) = (vtpm, nonce, auxblob, seed)
        (arguments.reportData, arguments.trustAnchor, arguments.collateral) = (reportData, trustAnchor, collateral)
        (arguments.crl, arguments.allowDebug, arguments.noPolicy) = (crl, allowDebug, noPolicy)
        let flags = [
            ("--min-tcb", minTCB), ("--signing-key", signingKey), ("--lifecycle", lifecycle),
            ("--id-key-digest", idKeyDigest), ("--author-key-digest", authorDigest),
            ("--platform-config", platformConfig),
            ("--sw-component", swComponents.isEmpty ? nil : swComponents.joined(separator: ",")),
        ]
        for case (let name, let value?) in flags { arguments.policyValues.set(name, value) }
        return arguments
    }

    func validate() throws {
        do throws(GuestOptionError) {
            try arguments.check(in: Guests.catalogue)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        do throws(EvidenceCheck.Failure) {
            print(try arguments.run(), terminator: "")
        } catch {
            throw Failure(error.description)
        }
    }
}

/// A policy flag's help, as the guests that take it word it.
private func policyHelp(_ name: String) -> ArgumentHelp {
    let option = Guests.catalogue.policyOption(name)
    return ArgumentHelp(option.help, valueName: option.valueName)
}
