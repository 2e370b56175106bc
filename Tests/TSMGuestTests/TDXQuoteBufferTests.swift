import TSMBytes
import TSMGuests
import Testing

/// `TDX_CMD_GET_QUOTE`'s shared buffer, framed as cctrusted-vm 0.5.0 and libtdx_attest frame it.
@Suite("Intel's GET_QUOTE buffer: the VMM's and QGS's answers")
struct TDXQuoteBufferTests {
    static let report = (0..<1024).map { UInt8($0 & 0xFF) }

    /// A QGS GET_QUOTE_REQ (`2H5I` + report), as cctrusted's `qgs_msg_quote_req`.
    static func message(
        major: UInt16 = 1, type: UInt32 = 0, size: UInt32? = nil, error: UInt32 = 0, report: [UInt8] = report,
        reportSize: UInt32? = nil, ids: [UInt8] = []
    ) -> [UInt8] {
        var writer = ByteWriter()
        writer.u16(major)
        writer.u16(0)
        writer.u32(type)
        writer.u32(size ?? UInt32(24 + report.count + ids.count))
        writer.u32(error)
        writer.u32(reportSize ?? UInt32(report.count))
        writer.u32(UInt32(ids.count))
        writer.append(report + ids)
        return writer.bytes
    }

    /// The shared buffer: `tdx_quote_hdr`, the big-endian length, the message; `length` bytes.
    static func buffer(
        _ message: [UInt8], version: UInt64 = 1, inLength: UInt32? = nil, prefix: UInt32? = nil, length: Int = 16384
    ) -> [UInt8] {
        let size = prefix ?? UInt32(message.count)
        let data = [UInt8(size >> 24), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)] + message
        var writer = ByteWriter()
        writer.u64(version)
        writer.u64(0)
        writer.u32(inLength ?? UInt32(data.count))
        writer.u32(0)
        writer.append(data)
        return writer.bytes + [UInt8](repeating: 0, count: max(0, length - writer.bytes.count))
    }

    @Test("a well-framed request gives its TDREPORT; the answer is framed as cctrusted-vm checks it")
    func quote() {
        let shared = Self.buffer(Self.message())
        #expect(TDXQuoteBuffer.parse(shared) == .quote(tdReport: Self.report))
        let quote = [UInt8](repeating: 0xAB, count: 5000)
        let answered = TDXQuoteBuffer.answering(shared, quote: quote)
        #expect(UInt64(littleEndianBytes: answered[8..<16]) == 0)
        let outLength = Int(UInt32(littleEndianBytes: answered[20..<24]))
        let dataLength = answered[24..<28].reduce(0) { $0 << 8 | Int($1) }
        #expect(dataLength == outLength - 4)
        #expect(dataLength == 24 + quote.count)
        // The header: version 1.1, GET_QUOTE_RESP, size, no error; no selected id; the quote's size.
        #expect(Array(answered[28..<32]) == [1, 0, 1, 0])
        #expect(UInt32(littleEndianBytes: answered[32..<36]) == 1)
        #expect(UInt32(littleEndianBytes: answered[36..<40]) == UInt32(dataLength))
        #expect(UInt32(littleEndianBytes: answered[40..<48]) == 0)
        #expect(UInt32(littleEndianBytes: answered[48..<52]) == 5000)
        #expect(Array(answered[52..<5052]) == quote)
        // version and in_len stay as the TD wrote them.
        #expect(Array(answered[0..<8]) == Array(shared[0..<8]) && Array(answered[16..<20]) == Array(shared[16..<20]))
    }

    @Test("the VMM refuses (the driver's EIO): another version, in_len past the buffer, a buffer without a header")
    func refused() {
        #expect(TDXQuoteBuffer.parse(Self.buffer(Self.message(), version: 2)) == .refused)
        #expect(TDXQuoteBuffer.parse(Self.buffer(Self.message(), inLength: 16384 - 24 + 1)) == .refused)
        #expect(TDXQuoteBuffer.parse([UInt8](repeating: 0, count: 23)) == .refused)
        let huge = Self.buffer(Self.message(), length: TDXQuoteBuffer.maximumLength + 4096)
        #expect(TDXQuoteBuffer.parse(huge) == .refused)
    }

    @Test("framing QGS cannot read: GET_QUOTE_ERROR in the status, out_len 0")
    func failed() {
        let error = TDXQuoteBuffer.Outcome.failed(status: TDXQuoteBuffer.statusError)
        #expect(TDXQuoteBuffer.parse(Self.buffer(Self.message(), prefix: 1000)) == error)
        #expect(TDXQuoteBuffer.parse(Self.buffer(Self.message(), inLength: 10)) == error)
        #expect(TDXQuoteBuffer.parse(Self.buffer(Self.message(type: 2))) == error)
        let shared = Self.buffer(Self.message(type: 4))
        let answered = TDXQuoteBuffer.failing(shared, status: TDXQuoteBuffer.statusError)
        #expect(UInt64(littleEndianBytes: answered[8..<16]) == 0x8000_0000_0000_0000)
        #expect(UInt32(littleEndianBytes: answered[20..<24]) == 0)
        #expect(Array(answered[24...]) == Array(shared[24...]))
    }

    @Test("requests QGS reads and refuses: a GET_QUOTE_RESP with QGS_MSG_ERROR_UNEXPECTED and no quote")
    func refusedByQGS() {
        let unexpected = TDXQuoteBuffer.Outcome.refusedByQGS(error: 0x12001)
        #expect(TDXQuoteBuffer.parse(Self.buffer(Self.message(major: 2))) == unexpected)
        #expect(TDXQuoteBuffer.parse(Self.buffer(Self.message(size: 1000))) == unexpected)
        #expect(TDXQuoteBuffer.parse(Self.buffer(Self.message(error: 1))) == unexpected)
        #expect(TDXQuoteBuffer.parse(Self.buffer(Self.message(report: [], reportSize: 0))) == unexpected)
        #expect(TDXQuoteBuffer.parse(Self.buffer(Self.message(reportSize: 1000))) == unexpected)
        #expect(
            TDXQuoteBuffer.parse(Self.buffer(Self.message(report: [UInt8](repeating: 1, count: 512)))) == unexpected)
        // An id list is taken and ignored (the one quoting enclave).
        #expect(
            TDXQuoteBuffer.parse(Self.buffer(Self.message(ids: [UInt8](repeating: 7, count: 16))))
                == .quote(tdReport: Self.report))
        let answered = TDXQuoteBuffer.answering(Self.buffer(Self.message(major: 2)), quote: [], error: 0x12001)
        #expect(UInt64(littleEndianBytes: answered[8..<16]) == 0)
        #expect(UInt32(littleEndianBytes: answered[20..<24]) == 28)
        #expect(UInt32(littleEndianBytes: answered[40..<44]) == 0x12001)
        #expect(UInt32(littleEndianBytes: answered[48..<52]) == 0)
    }

    @Test("an answer larger than the buffer is GET_QUOTE_ERROR")
    func tooSmall() {
        let shared = Self.buffer(Self.message(), length: 4096)
        let answered = TDXQuoteBuffer.answering(shared, quote: [UInt8](repeating: 1, count: 5000))
        #expect(UInt64(littleEndianBytes: answered[8..<16]) == TDXQuoteBuffer.statusError)
        #expect(UInt32(littleEndianBytes: answered[20..<24]) == 0)
    }
}
