import TSMBytes
import TSMEvidence
import TSMGuest

/// SEV-SNP's ID block keys (`--id-key`, `--author-key`): the digests the firmware puts in every
/// report (SNPIDKey), as the `sev-snp` provider's `id_key_digest` and `author_key_digest` launch
/// values.
extension SNPGuest {
    /// The digest of the key in the PEM file `option` names (SNPIDKey's format), or nil when the
    /// option is not given. The message names the option, the file and what is wrong.
    static func keyDigest(_ values: GuestOptionValues, _ option: String) throws(GuestOptionError) -> [UInt8]? {
        guard let path = values[option] else { return nil }
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(path: path, limit: SNPIDKey.fileLimit)
        } catch {
            throw GuestOptionError("\(option) \(error.description)")
        }
        guard let key = SNPIDKey.publicKey(pem: String(decoding: bytes, as: UTF8.self)) else {
            throw GuestOptionError(
                "\(option) \(path): not a P-384 key in PEM (EC PRIVATE KEY, PRIVATE KEY or PUBLIC KEY)")
        }
        return SNPIDKey.digest(key)
    }

    /// The launch values the options set, by register name: POLICY, and ID_KEY_DIGEST and
    /// AUTHOR_KEY_DIGEST when an ID block key is given (an author key without `--id-key`
    /// certifies the seed's mock ID key).
    static func launchValues(_ settings: Settings, seed: String) throws(AssemblyError) -> [String: [UInt8]] {
        var values = [SNPRegisters.policy.name: settings.policy.littleEndianBytes]
        var idKeyDigest = settings.idKeyDigest
        if let author = settings.authorKeyDigest {
            values[SNPRegisters.authorKeyDigest.name] = author
            if idKeyDigest == nil {
                idKeyDigest = try AssemblyError.authority { () throws(EvidenceError) in
                    SNPIDKey.digest(try SNPIDKey.mockIDKey(seed: seed))
                }
            }
        }
        if let idKeyDigest { values[SNPRegisters.idKeyDigest.name] = idKeyDigest }
        return values
    }
}
