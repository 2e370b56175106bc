import Crypto
import TSMEventLog
import TSMModel
import Testing

@Suite("TPM boot log (binary_bios_measurements)")
struct TPMEventLogTests {
    let log = TPMEventLog(boot: BootLog.synthetic())

    @Test("the synthetic boot lands in the PCRs TPM firmware uses")
    func pcrs() {
        #expect(log.events.count == BootLog.synthetic().events.count)
        #expect(log.measuredPCRs == [0, 1, 4, 5, 7, 8, 9])
        #expect(log.events.first?.pcr == 0)
        #expect(log.events.last?.pcr == 5)
    }

    @Test("each digest is SHA-256 of its data (a PCR 8 command line as grub measures it); replay from zero")
    func replay() {
        var pcr8 = [UInt8](repeating: 0, count: 32)
        for event in log.events {
            let measured = event.pcr == 8 ? event.data.dropFirst(16).dropLast() : event.data[...]
            #expect(event.pcr != 8 || event.data.last == 0)
            #expect(event.digests[0] == Array(SHA256.hash(data: measured)))
            if event.pcr == 8 { pcr8 = Array(SHA256.hash(data: pcr8 + event.digests[0])) }
        }
        let replayed = log.replay()
        #expect(replayed.count == 24)
        #expect(replayed[8] == pcr8)
        #expect(replayed[10] == [UInt8](repeating: 0, count: 32))
    }

    @Test("encoding: a Spec ID header at PCR 0 listing SHA-256 only, then TCG_PCR_EVENT2 records")
    func encoding() throws {
        let bytes = log.encoded()
        let header = log.header.encoded()
        #expect(Array(bytes.prefix(header.count)) == header)
        #expect(Array(bytes[32..<48]) == SpecIDEvent.signature)
        // The first record: pcrIndex 0, its type, one digest (0x000B), 32 bytes, the data.
        let first = try #require(log.events.first)
        let record = Array(bytes[header.count...])
        #expect(Array(record[0..<4]) == [0, 0, 0, 0])
        #expect(Array(record[8..<14]) == [1, 0, 0, 0, 0x0B, 0])
        #expect(Array(record[14..<46]) == first.digests[0])
        let sizes = log.events.map { 4 + 4 + 4 + 2 + 32 + 4 + $0.data.count }
        #expect(bytes.count == header.count + sizes.reduce(0, +))
    }

    @Test("with SHA-384 too: each record carries both digests, the header lists both, each bank replays")
    func twoBanks() {
        let both = TPMEventLog(boot: BootLog.synthetic(), banks: [.sha256, .sha384])
        #expect(both.header.algorithms.map(\.algorithmID) == [0x000B, 0x000C])
        #expect(both.replay(bank: .sha256) == log.replay())
        let first = both.events[0]
        #expect(first.digests[1] == Array(SHA384.hash(data: first.data)))
        var pcr0 = [UInt8](repeating: 0, count: 48)
        for event in both.events where event.pcr == 0 { pcr0 = Array(SHA384.hash(data: pcr0 + event.digests[1])) }
        #expect(both.replay(bank: .sha384)[0] == pcr0)
        #expect(both.encoded().count == log.encoded().count + 4 + both.events.count * (2 + 48))
    }
}
