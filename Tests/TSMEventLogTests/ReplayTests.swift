import TSMBytes
@testable import TSMEventLog
import Testing

/// Replay starts each RTMR at 48 zero bytes and folds new = SHA-384(old ‖ digest), computed here
/// with swift-crypto directly.
@Suite struct ReplayTests {
    let zero = [UInt8](repeating: 0, count: 48)

    @Test func emptyLogReplaysToZero() {
        #expect(TCGEventLog.replay([]) == [[UInt8]](repeating: zero, count: 4))
    }

    @Test func knownAnswers() throws {
        // Python: sha384(bytes(48) + bytes(48)).
        let zeroDigest = try TCGEvent(mrIndex: 1, type: .separator, digest: zero, data: [])
        #expect(
            TCGEventLog.replay([zeroDigest])[0]
                == hexBytes(
                    "f57bb7ed82c6ae4a29e6c9879338c592c7d42a39135583e8ccbe3940f2344b0eb6eb8503db0ffd6a39ddd00cd07d8317"))
        // Python: r = sha384(bytes(48) + sha384(b"abc")); sha384(r + sha384(b"")).
        let events = [
            try TCGEvent.measurement(rtmr: 3, type: .ipl, data: Array("abc".utf8)),
            try TCGEvent.measurement(rtmr: 3, type: .ipl, data: []),
        ]
        let replayed = TCGEventLog.replay(events)
        #expect(
            replayed[3]
                == hexBytes(
                    "a4d392030aec0188324dac645cac0391f996c9a913563092cd9d7c55c3d86c0f109053c37d2974da85660814bf359bed"))
        #expect(replayed[0] == zero && replayed[1] == zero && replayed[2] == zero)
    }

    @Test func mrIndexMapsToRTMR() throws {
        let log = try Samples.log()
        var expected = [[UInt8]](repeating: zero, count: 4)
        for event in log.events where event.type != .noAction {
            let rtmr = Int(event.mrIndex) - 1
            expected[rtmr] = sha384(expected[rtmr], event.digest)
        }
        #expect(log.replay() == expected)
        #expect(expected.allSatisfy { $0 != zero })
    }

    @Test func noActionAndNonRTMRIndicesAreNotExtended() throws {
        let noAction = try TCGEvent(mrIndex: 1, type: .noAction, digest: [UInt8](repeating: 1, count: 48), data: [1])
        let mrtd = try TCGEvent(mrIndex: 0, type: .ipl, digest: [UInt8](repeating: 1, count: 48), data: [1])
        let past = try TCGEvent(mrIndex: 5, type: .ipl, digest: [UInt8](repeating: 1, count: 48), data: [1])
        #expect(TCGEventLog.replay([noAction, mrtd, past]) == [[UInt8]](repeating: zero, count: 4))
        #expect(noAction.rtmr == nil && mrtd.rtmr == nil && past.rtmr == nil)
    }

    @Test func syntheticBootIsPinned() {
        // Pinned so that a change to the default boot is a deliberate one; cctrusted's replay of
        // the same log is checked in CCTrustedTests.
        let replayed = BootLog.synthetic().replay()
        #expect(replayed == BootLog.synthetic().replay(), "deterministic")
        #expect(replayed[3] == zero, "RTMR3 is left to the guest")
        #expect(replayed.prefix(3).allSatisfy { $0 != zero })
        #expect(replayed.map { Hex.encode($0) } == Pinned.syntheticRTMRs)
    }
}

enum Pinned {
    /// RTMR0...RTMR3 of `BootLog.synthetic()`, as cctrusted 0.5.0 replays them too.
    static let syntheticRTMRs = [
        "d97cd2767948ca0364aecbe8cce2b0cf561b0ff302226d57ccb0e4c97e6bcc49eb48dbca914863859a642a162ee7367b",
        "6dd7ade3b6f2a17c20b799e003b4213338b62f5f64dede02e99943741edfd707dead8b581c570398efd46ae482a8e78f",
        "2579ffc0fb830eda723ffe8653443a1589f81a7a9c6eeea00f80b89ffd150bbd2be41db177d46772b4180637965d8193",
        String(repeating: "0", count: 96),
    ]
}
