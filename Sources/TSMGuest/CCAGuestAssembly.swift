import TSMBackends
import TSMEvidence
import TSMModel
import TSMTree

/// An Arm CCA realm: the `cca` provider's RIM and REMs in the RFC v2 tree, and configfs-tsm
/// reports from `arm_cca_guest` whose outblob is a CCA attestation token over those registers,
/// the realm token signed by the seed's RAK and the platform token by its CPAK.
enum CCAGuestAssembly: GuestAssembler {
    static let providerName = "cca"

    static func assemble(_ spec: GuestSpec, journal: (any ChangeJournal)?, log: @escaping @Sendable (String) -> Void)
        throws(AssemblyError) -> GuestParts {
        let (descriptor, table) = try measured(spec, providerName, face: "--guest cca (its attestation tokens)")
        let faults = FaultInjector(measured: table) { log("injected fault: \($0)") }
        try arm(spec.faults, in: faults)
        let backend = FaultInjectingBackend(wrapping: SoftwareBackend(), faults: faults)
        let providers = try self.providers(spec, measured: descriptor, backend: backend, journal: journal)
        guard let cca = find(providerName, in: providers) else {
            throw .binding(RegisterBindingError(face: "--guest cca", provider: providerName, need: nil, problem: .missingProvider))
        }
        let registers = try bind { () throws(RegisterBindingError) in try CCARegisters(cca, for: "the arm_cca_guest token (configfs-tsm)") }
        let reports = CCAReportProvider(registers: registers, authority: CCAAuthority(seed: spec.seed),
                                        personalizationValue: spec.realmPersonalization,
                                        format: spec.ccaTokenFormat, log: log)
        return GuestParts(tsmProviders: providers, reports: FaultInjectingReportProvider(wrapping: reports, faults: faults),
                          faults: faults)
    }
}
