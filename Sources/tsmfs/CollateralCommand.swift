import ArgumentParser
import FoundationEssentials
import TSMEvidence
import TSMGuest
import TSMGuests

/// `tsmfs collateral`: the mock authority's DCAP collateral, for a verifier given a quote.
struct CollateralCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collateral",
        abstract: "Print the DCAP collateral of the mock TDX authority as dcap-qvl's QuoteCollateralV3 JSON.",
        discussion: "\(Guests.catalogue.collateralSummaries) Verify with the root of `tsmfs trust-anchor`."
    )

    @Option(
        help: ArgumentHelp(
            "The guest whose collateral: \(Guests.catalogue.takers(\.collateral)) (the default).", valueName: "NAME"))
    var guest: GuestName?

    @Option(help: ArgumentHelp("The seed the mock keys and certificates derive from.", valueName: "S"))
    var seed: String = MockSeed.default

    /// `--guest`, or the first guest that has collateral.
    var definition: (any GuestDefinition.Type)? {
        guest?.definition ?? Guests.catalogue.collateralGuests.first
    }

    func validate() throws {
        guard let definition, definition.verification.collateral else {
            throw ValidationError(
                """
                collateral is for --guest \(Guests.catalogue.takers(\.collateral)) (other guests' evidence \
                carries its chain)
                """
            )
        }
    }

    func run() throws {
        do {
            guard let definition, let json = try definition.collateral(seed: seed, at: Date()) else {
                throw Failure("--guest has no collateral")
            }
            print(json, terminator: "")
        } catch let error as EvidenceError {
            throw Failure(error.description)
        }
    }
}
