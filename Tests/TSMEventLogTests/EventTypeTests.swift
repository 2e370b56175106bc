import Testing
@testable import TSMEventLog

@Suite struct EventTypeTests {
    @Test func knownValues() {
        #expect(TCGEventType.noAction.rawValue == 3)
        #expect(TCGEventType.eventTag.rawValue == 6)
    }
}
