import TSMBytes

/// `"derive"` of a register in the config file:
///
/// ```json
/// {"digest": {"hash": "sha512", "of": ["rtmr0", "nonce"]}}
/// {"layout": [{"offset": 0, "hex": "81000000"}, {"offset": 128, "register": "reportdata"},
///             {"offset": 32, "digest": {"hash": "sha384", "from": 256, "to": 495}},
///             {"offset": 224, "mac": {"from": 0, "to": 224}}]}
/// ```
///
/// A layout field is exactly one of `register`, `hex`, `digest` (the hash of the layout's bytes
/// `from..<to`) or `mac` (the daemon's HMAC-SHA-256 of them; its key is never in the file).
struct DeriveEntry: Codable {
    struct Digest: Codable {
        var hash: String
        var of: [String]
    }

    /// The bytes `from..<to` of the layout a computed field covers.
    struct Covered: Codable {
        var hash: String?
        var from: Int
        var to: Int

        func range(field offset: Int) throws(EntryError) -> Range<Int> {
            guard from >= 0, from <= to else {
                throw EntryError(
                    message: "the layout field at offset \(offset) covers from \(from) to \(to): "
                        + "'from' must be at least 0 and at most 'to'")
            }
            return from..<to
        }
    }

    struct Field: Codable {
        var offset: Int
        var register: String?
        var hex: String?
        var digest: Covered?
        var mac: Covered?
    }

    var digest: Digest?
    var layout: [Field]?

    init(_ derivation: Derivation) {
        switch derivation {
        case .digest(let hash, let names):
            digest = Digest(hash: hash.rawValue, of: names)
        case .layout(let fields):
            layout = fields.map { field in
                switch field.source {
                case .register(let name): return Field(offset: field.offset, register: name)
                case .bytes(let bytes): return Field(offset: field.offset, hex: Hex.encode(bytes))
                case .digest(let hash, let range):
                    let covered = Covered(hash: hash.rawValue, from: range.lowerBound, to: range.upperBound)
                    return Field(offset: field.offset, digest: covered)
                case .mac(let range):
                    return Field(offset: field.offset, mac: Covered(from: range.lowerBound, to: range.upperBound))
                }
            }
        }
    }

    func derivation() throws(EntryError) -> Derivation {
        switch (digest, layout) {
        case (let digest?, nil):
            return .digest(try HashAlgorithm.named(digest.hash), of: digest.of)
        case (nil, let fields?):
            var result: [LayoutField] = []
            for field in fields { result.append(try Self.layoutField(field)) }
            return .layout(result)
        default:
            throw EntryError(message: "'derive' needs exactly one of 'digest' or 'layout'")
        }
    }

    private static func layoutField(_ field: Field) throws(EntryError) -> LayoutField {
        switch (field.register, field.hex, field.digest, field.mac) {
        case (let name?, nil, nil, nil):
            return .register(name, at: field.offset)
        case (nil, let hex?, nil, nil):
            return .bytes(try EntryError.hex(hex, field: "layout hex"), at: field.offset)
        case (nil, nil, let digest?, nil):
            guard let name = digest.hash else {
                throw EntryError(message: "the layout digest at offset \(field.offset) needs a 'hash'")
            }
            return .digest(try HashAlgorithm.named(name), of: try digest.range(field: field.offset), at: field.offset)
        case (nil, nil, nil, let mac?):
            guard mac.hash == nil else {
                throw EntryError(
                    message: "the layout mac at offset \(field.offset) takes no 'hash': it is HMAC-SHA-256")
            }
            return .mac(of: try mac.range(field: field.offset), at: field.offset)
        default:
            throw EntryError(
                message: "a layout field at offset \(field.offset) needs exactly one of 'register', 'hex', 'digest' "
                    + "or 'mac'")
        }
    }
}

extension HashAlgorithm {
    static func named(_ name: String) throws(EntryError) -> HashAlgorithm {
        guard let algorithm = HashAlgorithm(rawValue: name) else {
            let known = HashAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
            throw EntryError(message: "unknown hash '\(name)'; known: \(known)")
        }
        return algorithm
    }
}

extension EntryError {
    /// The bytes of a hex value in the config file, or an error naming `field` and what is wrong.
    static func hex(_ text: String, field: String) throws(EntryError) -> [UInt8] {
        do {
            return try Hex.parse(text)
        } catch {
            switch error {
            case .oddLength:
                throw EntryError(message: "\(field) is not hex: odd number of digits")
            case .badDigit(let offset):
                // The message has always named the start of the digit pair.
                throw EntryError(message: "\(field) is not hex: bad digit near position \(offset - offset % 2)")
            }
        }
    }
}
