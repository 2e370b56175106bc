import TSMBackends
import TSMEvidence
import TSMModel
import TSMTree

/// An AMD SEV-SNP guest: the `sev-snp` provider's launch values, signed into configfs-tsm
/// ATTESTATION_REPORTs by the mock VCEK, optionally under a mock SVSM. It has no register that
/// extends and no 6.16 device.
enum SNPGuestAssembly: GuestAssembler {
    static let providerName = "sev-snp"

    static func assemble(_ spec: GuestSpec, journal: (any ChangeJournal)?, log: @escaping @Sendable (String) -> Void)
        throws(AssemblyError) -> GuestParts {
        let (descriptor, _) = try measured(spec, providerName, face: "--guest sev-snp (its reports)")
        let providers = try self.providers(spec, measured: descriptor, backend: SoftwareBackend(), journal: journal)
        guard let snp = find(providerName, in: providers) else {
            throw .binding(RegisterBindingError(face: "--guest sev-snp", provider: providerName, need: nil, problem: .missingProvider))
        }
        let registers = try bind { () throws(RegisterBindingError) in try SNPRegisters(snp, for: "the sev_guest report (configfs-tsm)") }
        let authority = try self.authority(.sevSNP, seed: spec.seed)
        // No backend is wrapped: extend faults have nothing to act on and are refused.
        let faults = FaultInjector(measured: nil) { log("injected fault: \($0)") }
        try arm(spec.faults, in: faults)
        let reports = SNPReportProvider(registers: registers, authority: authority, privlevelFloor: spec.privlevelFloor,
                                        svsm: spec.svsm ? SVSMServicesManifest.mock(seed: spec.seed) : nil,
                                        visibilityCallbacks: spec.kernel.has(.reportVisibilityCallbacks), log: log)
        return GuestParts(tsmProviders: providers, reports: FaultInjectingReportProvider(wrapping: reports, faults: faults),
                          faults: faults)
    }
}
