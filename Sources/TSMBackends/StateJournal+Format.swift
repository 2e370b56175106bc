import Crypto
import TSMBytes
import TSMModel

/// The state file's bytes: header, records, and their checks (see ``StateJournal``).
extension StateJournal {
    static func checksum(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: Array(bytes)).prefix(8))
    }

    static func header(_ fingerprint: [UInt8]) -> [UInt8] {
        let body = magic + fingerprint + [UInt8](repeating: 0, count: 32)
        return body + checksum(body[...])
    }

    /// The check of a record's length field: the first 4 bytes of its SHA-256.
    static func lengthCheck(_ length: ArraySlice<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: Array(length)).prefix(4))
    }

    static func encode(_ change: RegisterChange) -> [UInt8] {
        let name = Array(change.provider.utf8)
        var payload = ByteWriter()
        payload.u8(change.kind.rawValue)
        payload.u16(UInt16(truncatingIfNeeded: name.count))
        payload.append(name)
        payload.u16(UInt16(truncatingIfNeeded: change.register))
        payload.u16(UInt16(truncatingIfNeeded: change.data.count))
        payload.append(change.data)
        let length = UInt32(truncatingIfNeeded: payload.bytes.count).littleEndianBytes
        return length + lengthCheck(length[...]) + payload.bytes + checksum((length + payload.bytes)[...])
    }

    /// What a file holds: its records, where its valid part ends (a torn tail past it), and
    /// where its tail of changes starts (after the last checkpoint, else after the header).
    struct Parsed {
        var changes: [RegisterChange]
        var validLength: Int
        var tailStart: Int
    }

    static func parse(_ bytes: [UInt8], fingerprint: [UInt8], path: String) throws(Failure) -> Parsed {
        if bytes.count >= formerMagic.count, Array(bytes[0..<formerMagic.count]) == formerMagic {
            throw .formerFormat(path: path)
        }
        guard bytes.count >= headerSize, Array(bytes[0..<8]) == magic,
            checksum(bytes[0..<72]) == Array(bytes[72..<80])
        else {
            throw .notAStateFile(path: path)
        }
        guard Array(bytes[8..<40]) == fingerprint else {
            throw .otherProviderSet(path: path)
        }
        var changes: [RegisterChange] = []
        var offset = headerSize, tailStart = headerSize
        while offset < bytes.count {
            // A length field and its check not wholly written: the tail a crash tore.
            guard bytes.count - offset >= 8 else { break }
            let lengthField = bytes[offset..<(offset + 4)]
            guard lengthCheck(lengthField) == Array(bytes[(offset + 4)..<(offset + 8)]) else {
                throw .damagedRecord(path: path, offset: offset)
            }
            let length = Int(UInt32(littleEndianBytes: lengthField))
            guard length <= maximumPayload else { throw .damagedRecord(path: path, offset: offset) }
            let end = offset + 8 + length
            // A record the file ends before, its length intact: the tail a crash tore.
            guard end + 8 <= bytes.count else { break }
            guard checksum((Array(lengthField) + bytes[(offset + 8)..<end])[...]) == Array(bytes[end..<(end + 8)])
            else {
                throw .damagedRecord(path: path, offset: offset)
            }
            guard let change = decode(Array(bytes[(offset + 8)..<end])) else {
                throw .undecodableRecord(path: path, offset: offset)
            }
            changes.append(change)
            offset = end + 8
            if change.kind == .checkpoint { tailStart = offset }
        }
        return Parsed(changes: changes, validLength: offset, tailStart: tailStart)
    }

    static func decode(_ payload: [UInt8]) -> RegisterChange? {
        guard payload.count >= 7, let kind = RegisterChange.Kind(rawValue: payload[0]) else { return nil }
        let nameLength = Int(UInt16(littleEndianBytes: payload[1..<3]))
        guard payload.count >= 7 + nameLength else { return nil }
        let name = String(decoding: payload[3..<(3 + nameLength)], as: UTF8.self)
        var index = 3 + nameLength
        let register = Int(UInt16(littleEndianBytes: payload[index..<(index + 2)]))
        let dataLength = Int(UInt16(littleEndianBytes: payload[(index + 2)..<(index + 4)]))
        index += 4
        guard payload.count == index + dataLength else { return nil }
        return RegisterChange(provider: name, register: register, kind: kind, data: Array(payload[index...]))
    }
}
