import TSMGuest
import TSMGuests
import TSMBackends
import TSMModel

extension GuestSpec {
    /// A spec of `guest` serving the providers its sysroot serves by default, with `options`
    /// given as `--name: value` (a flag's value "").
    static func of(
        _ guest: any GuestDefinition.Type, _ options: KeyValuePairs<String, String> = [:], seed: String = "tsmfs",
        faults: [FaultSpec] = [], kernel: KernelRelease = .newest, unified: Bool = true,
        catalogue: GuestCatalogue = Guests.catalogue
    ) -> GuestSpec {
        var values = GuestOptionValues()
        for (name, value) in options { values.set(name, value) }
        return GuestSpec(
            guest: guest, seed: seed, options: values, providers: catalogue.sysrootProviders(guest), faults: faults,
            kernel: kernel, unified: unified)
    }
}
