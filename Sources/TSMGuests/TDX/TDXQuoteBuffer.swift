import TSMBytes

/// The shared buffer of Intel's out-of-tree `TDX_CMD_GET_QUOTE` (`struct tdx_quote_hdr`, the
/// GHCI's TDG.VP.VMCALL<GetQuote> layout) and the Quote Generation Service messages it carries,
/// as DCAP's libtdx_attest and cctrusted-vm frame them (DCAP's qgs_msg_lib.h):
///
/// ```
/// tdx_quote_hdr:  u64 version (1) | u64 status | u32 in_len | u32 out_len | data...
/// data (in):      be32 size | qgs_msg_header | u32 report_size | u32 id_list_size | TDREPORT | ids
/// data (out):     be32 size | qgs_msg_header | u32 selected_id_size | u32 quote_size | quote
/// qgs_msg_header: u16 major (1) | u16 minor | u32 type (0 req, 1 resp) | u32 size | u32 error_code
/// ```
///
/// One request is answered as the driver, the VMM (QEMU's TDX GetQuote handler) and QGS answer
/// it together: the VMM refuses the call (the driver's EIO) for a version other than 1 or an
/// `in_len` past the buffer; a framing QGS cannot read sets status GET_QUOTE_ERROR; a request QGS
/// reads but refuses is a GET_QUOTE_RESP whose error_code is QGS_MSG_ERROR_UNEXPECTED (QGS maps
/// every refusal to it); otherwise the quote, status 0, `out_len` = 4 + the message's size.
public enum TDXQuoteBuffer {
    /// `sizeof(struct tdx_quote_hdr)`: where the data starts.
    public static let headerSize = 24
    /// `GET_QUOTE_CMD_VER`: the one structure version.
    public static let version: UInt64 = 1
    /// QEMU's `TDX_GET_QUOTE_MAX_BUF_LEN` (128 KiB): a larger shared buffer is refused.
    public static let maximumLength = 128 * 1024
    /// `GET_QUOTE_SUCCESS`: the VMM answered (QGS may still have refused, in its message).
    public static let statusSuccess: UInt64 = 0
    /// `GET_QUOTE_ERROR`: the VMM or QGS could not handle the request; `out_len` 0.
    public static let statusError: UInt64 = 0x8000_0000_0000_0000
    /// The big-endian length before a message (QGS's `HEADER_SIZE`).
    static let lengthPrefix = 4
    /// `sizeof(qgs_msg_header_t)`, `sizeof(qgs_msg_get_quote_req_t)` (= the response's).
    static let messageHeaderSize = 16
    static let quoteMessageSize = 24
    /// QGS_MSG_LIB_MAJOR_VER / MINOR_VER of DCAP's qgs_msg_lib.
    static let majorVersion: UInt16 = 1
    static let minorVersion: UInt16 = 1
    static let getQuoteRequest: UInt32 = 0
    static let getQuoteResponse: UInt32 = 1
    /// `QGS_MSG_ERROR_UNEXPECTED` (`QGS_MSG_MK_ERROR(1)`).
    public static let qgsErrorUnexpected: UInt32 = 0x0001_2001

    /// What the VMM and QGS make of one shared buffer.
    public enum Outcome: Equatable, Sendable {
        /// The VMM refuses the TDVMCALL: the driver returns EIO, the buffer goes back unchanged.
        case refused
        /// `status` set, `out_len` 0, the data untouched (QGS could not read the framing).
        case failed(status: UInt64)
        /// The TDREPORT QGS is to quote; the answer goes back through ``answering(_:quote:error:)``.
        case quote(tdReport: [UInt8])
        /// A GET_QUOTE_RESP carrying `error` and no quote (QGS read the request and refused it).
        case refusedByQGS(error: UInt32)
    }

    /// Reads `buffer` (the shared pages: the caller's `len` bytes, zero-padded to a page).
    public static func parse(_ buffer: [UInt8]) -> Outcome {
        guard buffer.count >= headerSize, buffer.count <= maximumLength,
            UInt64(littleEndianBytes: buffer[0..<8]) == version
        else { return .refused }
        let inLength = Int(UInt32(littleEndianBytes: buffer[16..<20]))
        guard inLength <= buffer.count - headerSize else { return .refused }
        let data = Array(buffer[headerSize..<headerSize + inLength])
        // QGS reads a 4-byte length and then exactly that many bytes: a length other than the
        // rest leaves it waiting (the VMM times out) or reading past the request.
        guard data.count >= lengthPrefix + messageHeaderSize,
            Int(UInt32(bigEndianBytes: data[0..<4])) == data.count - lengthPrefix
        else { return .failed(status: statusError) }
        let message = Array(data[lengthPrefix...])
        // QGS answers only the types it knows; tsmfs's QGS knows GET_QUOTE_REQ alone.
        guard UInt32(littleEndianBytes: message[4..<8]) == getQuoteRequest else {
            return .failed(status: statusError)
        }
        // qgs_msg_inflate_get_quote_req's checks, each answered QGS_MSG_ERROR_UNEXPECTED.
        guard message.count >= quoteMessageSize,
            UInt16(littleEndianBytes: message[0..<2]) == majorVersion,
            Int(UInt32(littleEndianBytes: message[8..<12])) == message.count,
            UInt32(littleEndianBytes: message[12..<16]) == 0
        else { return .refusedByQGS(error: qgsErrorUnexpected) }
        let reportSize = Int(UInt32(littleEndianBytes: message[16..<20]))
        let idListSize = Int(UInt32(littleEndianBytes: message[20..<24]))
        guard reportSize > 0, quoteMessageSize + reportSize + idListSize == message.count else {
            return .refusedByQGS(error: qgsErrorUnexpected)
        }
        // The quoting enclave takes only a TDREPORT (its ids are ignored: Intel's TDQE only).
        guard reportSize == 1024 else { return .refusedByQGS(error: qgsErrorUnexpected) }
        return .quote(tdReport: Array(message[quoteMessageSize..<quoteMessageSize + reportSize]))
    }

    /// `buffer` with `status` set and `out_len` 0, the data untouched (``Outcome/failed(status:)``).
    public static func failing(_ buffer: [UInt8], status: UInt64) -> [UInt8] {
        var buffer = buffer
        buffer.replaceSubrange(8..<16, with: status.littleEndianBytes)
        buffer.replaceSubrange(20..<24, with: UInt32(0).littleEndianBytes)
        return buffer
    }

    /// `buffer` with QGS's GET_QUOTE_RESP after its length: `quote` when `error` is 0, none
    /// otherwise; status 0 and `out_len` = 4 + the message's size. An answer that does not fit
    /// the buffer is GET_QUOTE_ERROR, as the VMM sets it.
    public static func answering(_ buffer: [UInt8], quote: [UInt8], error: UInt32 = 0) -> [UInt8] {
        let message = response(error: error, quote: error == 0 ? quote : [])
        let data = UInt32(message.count).bigEndianBytes + message
        guard headerSize + data.count <= buffer.count else { return failing(buffer, status: statusError) }
        var buffer = buffer
        buffer.replaceSubrange(headerSize..<headerSize + data.count, with: data)
        buffer.replaceSubrange(8..<16, with: statusSuccess.littleEndianBytes)
        buffer.replaceSubrange(20..<24, with: UInt32(data.count).littleEndianBytes)
        return buffer
    }

    /// A GET_QUOTE_RESP as qgs_msg_gen_get_quote_resp / qgs_msg_gen_error_resp make it.
    static func response(error: UInt32, quote: [UInt8]) -> [UInt8] {
        var writer = ByteWriter()
        writer.u16(majorVersion)
        writer.u16(minorVersion)
        writer.u32(getQuoteResponse)
        writer.u32(UInt32(quoteMessageSize + quote.count))
        writer.u32(error)
        writer.u32(0)  // selected_id_size: the only id, Intel's TDQE
        writer.u32(UInt32(quote.count))
        writer.append(quote)
        return writer.bytes
    }

    /// A page, the unit of the driver's shared buffer (`PAGE_ALIGN(len)`).
    public static let pageSize = 4096
}
