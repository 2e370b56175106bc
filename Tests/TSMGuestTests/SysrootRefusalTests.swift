import Foundation
import Testing
import TSMBackends
import TSMGuest
import TSMGuests
import TSMModel

/// What a sysroot refuses at assembly, before anything is mounted (the daemon mounts only what
/// assembled): no root, no FUSE.
@Suite("Sysroot refusals")
struct SysrootRefusalTests {
    static let silent: Assembly.Log = { _ in }

    func refusal(_ spec: GuestSpec) -> String? {
        do {
            _ = try Assembly.sysroot(spec, state: nil, log: Self.silent)
            return nil
        } catch {
            return error.description
        }
    }

    @Test("a guest without its provider is refused, naming the provider", arguments: Guests.catalogue.names)
    func missingProvider(_ name: String) throws {
        let guest = try #require(Guests.catalogue.named(name))
        var spec = GuestSpec.of(guest)
        spec.providers.removeAll { $0.name == guest.provider.name }
        #expect(refusal(spec) == "\(guest.faces) needs the '\(guest.provider.name)' provider, which is not served")
    }

    @Test(
        "a table that renames or reshapes a register a face needs is refused, naming the register and the face",
        arguments: [
            ("rtmr2", "rtmr9", "needs register tdx/rtmr2, which provider 'tdx' does not have"),
            ("reportdata", "userdata", "/dev/tdx_guest needs register tdx/reportdata"),
            ("mrowner", "owner", "the tdx_guest quote (configfs-tsm) needs register tdx/mrowner"),
        ])
    func renamedRegister(from: String, to: String, message: String) throws {
        // As a user would: the table printed as a config, the name replaced everywhere, read back.
        var spec = GuestSpec.of(TDXGuest.self)
        let index = try #require(spec.providers.firstIndex { $0.name == "tdx" })
        let edited = ProviderConfig.encode([spec.providers[index]]).replacingOccurrences(
            of: "\"\(from)\"", with: "\"\(to)\"")
        spec.providers[index] = try #require(try ProviderConfig.decode(Array(edited.utf8), file: "tdx.json").first)
        #expect(refusal(spec)?.contains(message) == true, "\(refusal(spec) ?? "accepted")")
    }

    @Test(
        "a fault's register target is refused where it means nothing",
        arguments: [
            ("tdx", "outblob@rtmr2", "outblob@rtmr2: only extend faults take a register"),
            ("tdx", "extend@rtmr9", "extend@rtmr9: no such extensible register; known: rtmr0, rtmr1, rtmr2, rtmr3"),
            ("tdx", "extend@mrtd", "extend@mrtd: no such extensible register"),
            ("sev-snp", "extend", "extend faults need registers that extend"),
            ("cca", "extend@rim", "extend@rim: no such extensible register; known: rem0, rem1, rem2, rem3"),
        ])
    func faultTargets(guest name: String, fault text: String, message: String) throws {
        let guest = try #require(Guests.catalogue.named(name))
        let spec = GuestSpec.of(guest, faults: [try #require(FaultSpec(parsing: text))])
        #expect(refusal(spec)?.contains(message) == true, "\(refusal(spec) ?? "accepted")")
    }
}
