import Crypto
import TSMBytes
import TSMEvidence

/// HMAC sessions on the HCL report's TPM2_NV_Read. tpm2-tools (5.4) authorises NV_Read with an
/// unbound, unsalted HMAC session (TPM2_StartAuthSession with tpmKey and bind TPM_RH_NULL, no
/// symmetric algorithm, SHA-256), whose session key is empty (TPM 2.0 Part 1 §19.6.8): with the
/// index's or the hierarchy's empty authValue the HMAC key is empty, so tsmfs can check the
/// command's HMAC and give the response's as the TPM would (Part 1 §19.6.10, §19.6.16). For that it
/// follows each such session's nonceTPM: from StartAuthSession's response, from every response
/// swtpm gives that uses it, and from its own answers. A session tsmfs answered with is out of step
/// with swtpm (whose nonceTPM did not roll): its next use at swtpm fails authorisation, so a client
/// flushes it after the read, as tpm2-tools does. Other sessions (bound, salted, policy, with
/// parameter encryption or audit) get TPM_RC_AUTH_UNAVAILABLE.
extension AzurePersonality {
    /// The sessions followed at once; more are not followed (their reads get AUTH_UNAVAILABLE).
    static let sessionLimit = 64
    /// TPM_RC_AUTH_FAIL for the first session (TPM_RC_S | TPM_RC_1 | 0x08E).
    static let authFail: UInt32 = 0x98E
    static let nullHandle: UInt32 = 0x4000_0007

    /// One session of an authorisation area.
    struct SessionEntry {
        var handle: UInt32
        var nonce: [UInt8]
        var attributes: UInt8
        var hmac: [UInt8]
    }

    /// The sessions of an authorisation area, nil when it does not parse.
    static func sessionEntries(_ area: [UInt8]) -> [SessionEntry]? {
        var reader = ByteReader<VTPMError>(area, structure: "authorization area")
        var entries: [SessionEntry] = []
        while !reader.isAtEnd {
            guard let handle = try? reader.u32BigEndian("sessionHandle"), let nonce = try? reader.sized16("nonce"),
                let attributes = try? reader.u8("attributes"), let hmac = try? reader.sized16("hmac")
            else { return nil }
            entries.append(SessionEntry(handle: handle, nonce: nonce, attributes: attributes, hmac: hmac))
        }
        return entries
    }

    /// Follows sessions' nonceTPM through a command swtpm answered.
    func followSessions(_ command: [UInt8], response: [UInt8], tpm: VirtualTPM) {
        guard command.count >= 10, let answer = try? TPMResponse(response), answer.code == .success else { return }
        let code = UInt32(bigEndianBytes: command[6..<10])
        if code == TPM2Commands.Code.startAuthSession.rawValue {
            startSession(command, body: answer.body)
        } else if code == TPM2Commands.Code.flushContext.rawValue, command.count >= 14 {
            let handle = UInt32(bigEndianBytes: command[10..<14])
            _ = sessions.withLock { $0.removeValue(forKey: handle) }
        } else if UInt16(bigEndianBytes: command[0..<2]) == TPM2Commands.tagSessions,
            !sessions.withLock({ $0.isEmpty }), let table = tpm.commandAttributes.withLock({ $0 }),
            let attributes = TPMSpace.find(code, in: table)
        {
            roll(command, body: answer.body, attributes: attributes)
        }
    }

    /// A StartAuthSession whose session tsmfs can follow: tpmKey and bind TPM_RH_NULL, no salt,
    /// an HMAC session, no symmetric algorithm, SHA-256.
    private func startSession(_ command: [UInt8], body: [UInt8]) {
        guard UInt16(bigEndianBytes: command[0..<2]) == TPM2Commands.tagNoSessions, command.count >= 18,
            UInt32(bigEndianBytes: command[10..<14]) == Self.nullHandle,
            UInt32(bigEndianBytes: command[14..<18]) == Self.nullHandle
        else { return }
        var reader = ByteReader<VTPMError>(command, structure: "TPM2_StartAuthSession", offset: 18)
        guard (try? reader.sized16("nonceCaller")) != nil, (try? reader.sized16("encryptedSalt"))?.isEmpty == true,
            (try? reader.u8("sessionType")) == 0, (try? reader.u16BigEndian("symmetric")) == TPMAlgorithmID.null,
            (try? reader.u16BigEndian("authHash")) == TPMAlgorithmID.sha256, reader.isAtEnd
        else { return }
        var response = ByteReader<VTPMError>(body, structure: "TPM2_StartAuthSession response")
        guard let handle = try? response.u32BigEndian("sessionHandle"),
            let nonce = try? response.sized16("nonceTPM")
        else { return }
        sessions.withLock { if $0.count < Self.sessionLimit { $0[handle] = nonce } }
    }

    /// The nonceTPM of each followed session a successful command used, from its response; a
    /// session whose continueSession was clear is gone.
    private func roll(_ command: [UInt8], body: [UInt8], attributes: UInt32) {
        let handles = Int((attributes >> 25) & 0x7), responseHandles = attributes & (1 << 28) != 0 ? 1 : 0
        var reader = ByteReader<VTPMError>(command, structure: "command", offset: 10 + 4 * handles)
        guard let size = try? reader.u32BigEndian("authorizationSize"),
            let area = try? reader.read(Int(size), "authorization"), let used = Self.sessionEntries(area)
        else { return }
        var responseReader = ByteReader<VTPMError>(body, structure: "response", offset: 4 * responseHandles)
        guard let parameterSize = try? responseReader.u32BigEndian("parameterSize"),
            (try? responseReader.read(Int(parameterSize), "parameters")) != nil,
            let answered = Self.sessionEntries(Array(body[min(responseReader.offset, body.count)...])),
            answered.count == used.count
        else { return }
        sessions.withLock { sessions in
            for (entry, reply) in zip(used, answered) where sessions[entry.handle] != nil {
                sessions[entry.handle] = entry.attributes & 1 == 0 ? nil : reply.nonce
            }
        }
    }

    /// NV_Read of the report under a followed HMAC session, after swtpm accepted the same
    /// authHandle with an empty password (so the authValue is empty): the HMAC checked (else
    /// TPM_RC_AUTH_FAIL), the response's auth area made with a fresh nonceTPM. Nil when the
    /// session is not followed or carries decrypt, encrypt or audit.
    func hmacAuthorization(
        _ session: SessionEntry, authHandle: UInt32, parameters: [UInt8]
    ) -> (check: Bool, respond: ([UInt8]) -> [UInt8])? {
        guard session.attributes & 0xE0 == 0, let nonceTPM = sessions.withLock({ $0[session.handle] }) else {
            return nil
        }
        let code = PersonalityCommands.nvRead.bigEndianBytes
        let authName = authHandle == AzureHCLReport.nvIndex ? Self.reportIndexName : authHandle.bigEndianBytes
        let cpHash = Array(SHA256.hash(data: code + authName + Self.reportIndexName + parameters))
        let key = SymmetricKey(data: [UInt8]())
        let expected = Array(
            HMAC<SHA256>.authenticationCode(for: cpHash + session.nonce + nonceTPM + [session.attributes], using: key))
        let attributes = session.attributes, caller = session.nonce, handle = session.handle
        return (
            expected == session.hmac,
            { [self] responseParameters in
                let fresh = (0..<32).map { _ in UInt8.random(in: 0...255) }
                sessions.withLock { $0[handle] = attributes & 1 == 0 ? nil : fresh }
                let rpHash = Array(SHA256.hash(data: UInt32(0).bigEndianBytes + code + responseParameters))
                let hmac = Array(
                    HMAC<SHA256>.authenticationCode(for: rpHash + fresh + caller + [attributes], using: key))
                var writer = ByteWriter()
                writer.sized16(fresh)
                writer.u8(attributes)
                writer.sized16(hmac)
                return writer.bytes
            }
        )
    }
}
