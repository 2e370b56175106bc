import Testing
import TSMEventLog
import TSMGuest
import TSMGuests

@Suite("tsmfs log: reading a sysroot's event logs")
struct SysrootEventLogsTests {
    @Test("a missing file names itself; files that do not decode name the sysroot")
    func refusals() throws {
        #expect(throws: SysrootEventLogs.Failure.self) { try SysrootEventLogs.read(sysroot: "/nonexistent/sysroot") }
        do throws(SysrootEventLogs.Failure) {
            _ = try SysrootEventLogs.read(sysroot: "/nonexistent/sysroot")
        } catch {
            #expect(error.description.contains("/nonexistent/sysroot/sys/firmware/acpi/tables/CCEL"), "\(error)")
        }
        let undecodable = SysrootEventLogs.Failure.undecodable(
            sysroot: "/g", .malformed(structure: "CCEL", offset: 0, reason: "x"))
        #expect(
            undecodable.description
                == """
                /g: the event logs do not decode: \
                \(EventLogError.malformed(structure: "CCEL", offset: 0, reason: "x"))
                """
        )
    }
}
