/// The claims of a CCA realm token (RMM 1.0 specification §A7.2.3.1; the RMM 1.0-rel0 form
/// TF-RMM v0.6/v0.7 emits): integer keys, the RAK as a COSE_Key.
public struct CCARealmClaims: Sendable, Equatable {
    /// Claim keys (RMM 1.0 §A7.2.3.1).
    public enum Key {
        /// The claim keys, named as the specification names the claims.
        public static let challenge: Int64 = 10, profile: Int64 = 265, personalizationValue: Int64 = 44235
        /// 44236 ... 44238.
        public static let hashAlgorithm: Int64 = 44236, publicKey: Int64 = 44237, rim: Int64 = 44238
        /// 44239, 44240.
        public static let rems: Int64 = 44239, publicKeyHashAlgorithm: Int64 = 44240
    }
    /// The realm profile of RMM 1.0 (EAT profile claim).
    public static let profile1_0 = "tag:arm.com,2023:realm#1.0.0"

    /// The inblob, zero-padded to 64 bytes.
    public var challenge: [UInt8]
    /// RPV, 64 bytes, set by the host when the realm is created.
    public var personalizationValue: [UInt8]
    /// The realm hash algorithm: "sha-256" or "sha-512".
    public var hashAlgorithm: String
    /// The realm hash algorithms RMM 1.0 defines (RMI_HASH_SHA_256, RMI_HASH_SHA_512), with the
    /// size of the RIM and REMs each gives.
    public static let digestSizes: [String: Int] = ["sha-256": 32, "sha-512": 64]
    /// The RAK: a COSE_Key's bytes (what the platform challenge hashes).
    public var publicKey: [UInt8]
    /// The algorithm of the platform challenge over ``publicKey``.
    public var publicKeyHashAlgorithm: String
    /// The Realm Initial Measurement, of the realm hash algorithm's size.
    public var rim: [UInt8]
    /// REM0...REM3.
    public var rems: [[UInt8]]
    /// The EAT profile claim (265).
    public var profile: String = CCARealmClaims.profile1_0

    /// Realm claims with the RMM 1.0 profile.
    public init(
        challenge: [UInt8], personalizationValue: [UInt8], hashAlgorithm: String, publicKey: [UInt8],
        publicKeyHashAlgorithm: String, rim: [UInt8], rems: [[UInt8]]
    ) {
        self.challenge = challenge
        self.personalizationValue = personalizationValue
        self.hashAlgorithm = hashAlgorithm
        self.publicKey = publicKey
        self.publicKeyHashAlgorithm = publicKeyHashAlgorithm
        self.rim = rim
        self.rems = rems
    }

    /// The payload, in TF-RMM's claim order.
    public func encoded() -> [UInt8] {
        CBOR.intMap([
            (Key.challenge, .bytes(challenge)), (Key.personalizationValue, .bytes(personalizationValue)),
            (Key.publicKey, .bytes(publicKey)), (Key.hashAlgorithm, .text(hashAlgorithm)),
            (Key.publicKeyHashAlgorithm, .text(publicKeyHashAlgorithm)), (Key.profile, .text(profile)),
            (Key.rim, .bytes(rim)), (Key.rems, .array(rems.map { .bytes($0) })),
        ]).encoded()
    }

    /// Parses and checks a realm token payload: every claim present with its type and size.
    public static func parse(_ payload: [UInt8]) throws(EvidenceError) -> CCARealmClaims {
        let decoded = try mappingCryptoError(CBORDecoder.decode(payload, structure: "realm claims"))
        let claims = ClaimReader(decoded, structure: "realm claims")
        var realm = CCARealmClaims(
            challenge: try claims.bytes(Key.challenge, "challenge", sizes: [64]),
            personalizationValue: try claims.bytes(Key.personalizationValue, "personalization value", sizes: [64]),
            hashAlgorithm: try claims.text(Key.hashAlgorithm, "hash algorithm"),
            publicKey: try claims.bytes(Key.publicKey, "public key", sizes: nil),
            publicKeyHashAlgorithm: try claims.text(Key.publicKeyHashAlgorithm, "public key hash algorithm"),
            rim: try claims.bytes(Key.rim, "RIM", sizes: [32, 48, 64]), rems: [])
        guard let size = digestSizes[realm.hashAlgorithm] else {
            throw .malformed(
                structure: "realm claims",
                reason: "hash algorithm (44236) \"\(realm.hashAlgorithm)\" is not sha-256 or sha-512 (RMM 1.0)")
        }
        guard realm.rim.count == size else {
            throw .malformed(
                structure: "realm claims",
                reason: "RIM (44238) has \(realm.rim.count) bytes; a \(realm.hashAlgorithm) digest has \(size)")
        }
        realm.profile = try claims.text(Key.profile, "profile")
        guard realm.profile == profile1_0 else {
            throw .malformed(structure: "realm claims", reason: "profile \"\(realm.profile)\" is not \(profile1_0)")
        }
        guard case .array(let rems) = try claims.value(Key.rems, "REMs"), rems.count == 4 else {
            throw .malformed(structure: "realm claims", reason: "REMs (44239) is not an array of 4")
        }
        for rem in rems {
            guard case .bytes(let value) = rem, value.count == realm.rim.count else {
                throw .malformed(structure: "realm claims", reason: "a REM is not a byte string of the RIM's size")
            }
            realm.rems.append(value)
        }
        return realm
    }
}

/// One entry of the platform's software components (PSA/CCA claim 2399).
public struct CCASoftwareComponent: Sendable, Equatable {
    /// Label 1: the component's name ("BL2", "RMM").
    public var type: String
    /// Label 2: its measurement.
    public var measurement: [UInt8]
    /// Label 4: its version.
    public var version: String
    /// Label 5: the hash of its signer's key.
    public var signerID: [UInt8]
    /// Label 6: the algorithm of ``measurement``.
    public var hashAlgorithm: String

    /// A component with every label.
    public init(type: String, measurement: [UInt8], version: String, signerID: [UInt8], hashAlgorithm: String) {
        self.type = type
        self.measurement = measurement
        self.version = version
        self.signerID = signerID
        self.hashAlgorithm = hashAlgorithm
    }

    var cbor: CBOR {
        .intMap([
            (1, .text(type)), (2, .bytes(measurement)), (4, .text(version)), (5, .bytes(signerID)),
            (6, .text(hashAlgorithm)),
        ])
    }
}

/// The claims of a CCA platform token (CCA Security Model §A7.2.3.2; profile
/// `tag:arm.com,2023:cca_platform#1.0.0`).
public struct CCAPlatformClaims: Sendable, Equatable {
    /// Claim keys (CCA Security Model, PSA token).
    public enum Key {
        /// The claim keys, named as the specification names the claims.
        public static let challenge: Int64 = 10, instanceID: Int64 = 256, profile: Int64 = 265, lifecycle: Int64 = 2395
        /// 2396, 2399.
        public static let implementationID: Int64 = 2396, softwareComponents: Int64 = 2399
        /// 2400 ... 2402.
        public static let verificationService: Int64 = 2400, config: Int64 = 2401, hashAlgorithm: Int64 = 2402
    }
    /// The platform profile of RMM 1.0.
    public static let profile1_0 = "tag:arm.com,2023:cca_platform#1.0.0"

    /// The EAT profile claim (265).
    public var profile = CCAPlatformClaims.profile1_0
    /// The hash of the realm token's RAK COSE_Key.
    public var challenge: [UInt8]
    /// 32 bytes naming the platform's implementation (its trust anchor's key in a verifier).
    public var implementationID: [UInt8]
    /// 33 bytes, the first 0x01 (an EAT UEID of type RAND).
    public var instanceID: [UInt8]
    /// The platform configuration (non-empty).
    public var config: [UInt8]
    /// 0x3000...0x30FF: secured.
    public var lifecycle: UInt64
    /// The measured firmware (at least one).
    public var softwareComponents: [CCASoftwareComponent]
    /// Where a relying party finds the verifier.
    public var verificationService: String?
    /// The platform hash algorithm (2402).
    public var hashAlgorithm: String

    /// Platform claims with the RMM 1.0 profile.
    public init(
        challenge: [UInt8], implementationID: [UInt8], instanceID: [UInt8], config: [UInt8], lifecycle: UInt64,
        softwareComponents: [CCASoftwareComponent], verificationService: String?, hashAlgorithm: String
    ) {
        self.challenge = challenge
        self.implementationID = implementationID
        self.instanceID = instanceID
        self.config = config
        self.lifecycle = lifecycle
        self.softwareComponents = softwareComponents
        self.verificationService = verificationService
        self.hashAlgorithm = hashAlgorithm
    }

    /// The payload, in the order of Arm's example token.
    public func encoded() -> [UInt8] {
        var pairs: [(Int64, CBOR)] = [
            (Key.profile, .text(profile)), (Key.challenge, .bytes(challenge)),
            (Key.implementationID, .bytes(implementationID)),
            (Key.instanceID, .bytes(instanceID)), (Key.config, .bytes(config)), (Key.lifecycle, .unsigned(lifecycle)),
            (Key.hashAlgorithm, .text(hashAlgorithm)),
        ]
        if let verificationService { pairs.append((Key.verificationService, .text(verificationService))) }
        pairs.append((Key.softwareComponents, .array(softwareComponents.map(\.cbor))))
        return CBOR.intMap(pairs).encoded()
    }

    /// Parses and checks a platform token payload.
    public static func parse(_ payload: [UInt8]) throws(EvidenceError) -> CCAPlatformClaims {
        let structure = "platform claims"
        let claims = ClaimReader(
            try mappingCryptoError(CBORDecoder.decode(payload, structure: structure)),
            structure: structure)
        let instanceID = try claims.bytes(Key.instanceID, "instance ID", sizes: [33])
        guard instanceID.first == 0x01 else {
            throw .malformed(structure: structure, reason: "instance ID does not start with 0x01")
        }
        guard case .unsigned(let lifecycle) = try claims.value(Key.lifecycle, "lifecycle") else {
            throw .malformed(structure: structure, reason: "lifecycle (2395) is not an unsigned integer")
        }
        guard case .array(let entries) = try claims.value(Key.softwareComponents, "software components"),
            !entries.isEmpty
        else {
            throw .malformed(structure: structure, reason: "software components (2399) is not a non-empty array")
        }
        var components: [CCASoftwareComponent] = []
        for entry in entries {
            let component = ClaimReader(entry, structure: "software component")
            let measured = CCASoftwareComponent(
                type: try component.optionalText(1) ?? "",
                measurement: try component.bytes(2, "measurement", sizes: [32, 48, 64]),
                version: try component.optionalText(4) ?? "",
                signerID: try component.bytes(5, "signer ID", sizes: [32, 48, 64]),
                hashAlgorithm: try component.optionalText(6) ?? "")
            if !measured.hashAlgorithm.isEmpty {
                let size = CCAToken.hash(measured.hashAlgorithm, [])?.count
                guard size == measured.measurement.count else {
                    throw .malformed(
                        structure: "software component",
                        reason: "measurement (2) has \(measured.measurement.count) bytes, not the size of "
                            + "a \"\(measured.hashAlgorithm)\" digest (6)")
                }
            }
            components.append(measured)
        }
        var platform = CCAPlatformClaims(
            challenge: try claims.bytes(Key.challenge, "challenge", sizes: [32, 48, 64]),
            implementationID: try claims.bytes(Key.implementationID, "implementation ID", sizes: [32]),
            instanceID: instanceID,
            config: try claims.bytes(Key.config, "config", sizes: nil), lifecycle: lifecycle,
            softwareComponents: components,
            verificationService: try claims.optionalText(Key.verificationService),
            hashAlgorithm: try claims.text(Key.hashAlgorithm, "hash algorithm"))
        platform.profile = try claims.text(Key.profile, "profile")
        guard platform.profile == profile1_0 else {
            throw .malformed(structure: structure, reason: "profile \"\(platform.profile)\" is not \(profile1_0)")
        }
        return platform
    }
}

/// Reads typed claims from a map with integer keys, naming the claim in errors.
struct ClaimReader {
    let map: CBOR
    let structure: String

    init(_ map: CBOR, structure: String) {
        self.map = map
        self.structure = structure
    }

    func value(_ key: Int64, _ name: String) throws(EvidenceError) -> CBOR {
        guard case .map = map else { throw .malformed(structure: structure, reason: "not a map") }
        guard let value = map[key] else {
            throw .malformed(structure: structure, reason: "\(name) (\(key)) is missing")
        }
        return value
    }

    func bytes(_ key: Int64, _ name: String, sizes: Set<Int>?) throws(EvidenceError) -> [UInt8] {
        guard case .bytes(let bytes) = try value(key, name), sizes.map({ $0.contains(bytes.count) }) ?? !bytes.isEmpty
        else {
            let expected =
                sizes.map { $0.sorted().map(String.init).joined(separator: " or ") + " bytes" } ?? "non-empty"
            throw .malformed(structure: structure, reason: "\(name) (\(key)) is not a byte string of \(expected)")
        }
        return bytes
    }

    func text(_ key: Int64, _ name: String) throws(EvidenceError) -> String {
        guard case .text(let text) = try value(key, name), !text.isEmpty else {
            throw .malformed(structure: structure, reason: "\(name) (\(key)) is not a non-empty text string")
        }
        return text
    }

    func optionalText(_ key: Int64) throws(EvidenceError) -> String? {
        guard case .map = map else { throw .malformed(structure: structure, reason: "not a map") }
        guard let value = map[key] else { return nil }
        guard case .text(let text) = value else {
            throw .malformed(structure: structure, reason: "claim \(key) is not a text string")
        }
        return text
    }
}
