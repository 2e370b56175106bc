import ArgumentParser
import FoundationEssentials
import TSMEvidence

/// `tsmfs collateral`: the mock authority's DCAP collateral, for a verifier given a quote.
struct CollateralCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collateral",
        abstract: "Print the DCAP collateral of the mock TDX authority as dcap-qvl's QuoteCollateralV3 JSON.",
        discussion: """
            The root CA and PCK CA CRLs (hex DER), the TDX TCB info v3 and TD_QE identity v2 (JSON text, \
            signed by the mock TCB Signing key over exactly that text; signatures hex) and their issuer \
            chains (PEM), issued now and current for 30 days. The TCB info lists one level per TCB status, \
            so it serves quotes of every --tcb-status. Verify with the root of `tsmfs trust-anchor`.
            """
    )

    @Option(help: "The guest whose collateral: tdx.")
    var guest: Guest = .tdx

    @Option(help: ArgumentHelp("The seed the mock keys and certificates derive from.", valueName: "S"))
    var seed: String = MockAuthority.defaultSeed

    func validate() throws {
        guard guest == .tdx else { throw ValidationError("collateral is for --guest tdx (a SEV-SNP report carries its VCEK chain in the auxblob)") }
    }

    func run() throws {
        do {
            print(try MockAuthority(guest: .tdx, seed: seed).tdxCollateral(at: Date()).json, terminator: "")
        } catch {
            throw Failure(error.description)
        }
    }
}
