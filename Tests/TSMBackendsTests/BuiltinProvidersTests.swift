import Testing
import TSMBackends
import TSMModel
import TSMGuest
import TSMGuests

/// The built-in provider tables against the model's rules and its JSON form.
@Suite("Built-in provider tables")
struct BuiltinProvidersTests {
    @Test("the built-in providers round-trip through their JSON form")
    func roundTrip() throws {
        let text = ProviderConfig.encode(Guests.catalogue.plainProviders)
        #expect(try ProviderConfig.decode(Array(text.utf8), file: "test.json") == Guests.catalogue.plainProviders)
        #expect(ProviderConfig.encode(try ProviderConfig.decode(Array(text.utf8), file: "test.json")) == text)
    }

    @Test("the built-in providers validate")
    func builtins() throws {
        for descriptor in Guests.catalogue.plainProviders {
            _ = try RegisterTable(validating: descriptor)
        }
        #expect(Guests.catalogue.plainProviders.map(\.name) == ["cca", "measurement-example", "tdx"])
    }

    @Test("refresh order puts inputs first")
    func refreshOrder() throws {
        let table = try RegisterTable(validating: BuiltinProviders.measurementExample)
        let names = table.refreshOrder.map { table.registers[$0].name }
        #expect(names == ["report_digest", "full_report"])
    }
}
