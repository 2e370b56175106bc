// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "tsmfs",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tsmfs", targets: ["tsmfs"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        // The HTTP server of the local services (`tsmfs pccs`, `tsmfs kds`); only TSMServices uses it.
        // No traits: the default FullFoundation links all of Foundation and ICU into every process
        // (a DateFormatter case in its form coding), ~6 MB of resident memory for each mounted
        // daemon; ConfigurationSupport (swift-configuration) is not used either.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // Hummingbird's own event loop library: TSMServices adds channel handlers of its own
        // (HTTP/1.0 connection close, accept back-off) that name NIOHTTP1's parts and NIOCore.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
    ],
    targets: [
        // The only place that names libfuse3 and sets FUSE_USE_VERSION.
        .systemLibrary(
            name: "CFuse",
            pkgConfig: "fuse3",
            providers: [.apt(["libfuse3-dev"])]
        ),
        // Host plumbing of `tsmfs exec`: child processes, bind mounts over /sys and /dev, and
        // what a killed exec leaves behind.
        .target(
            name: "TSMHost",
            dependencies: ["CLinux", "TSMBytes", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // Linux calls that Swift cannot make itself (variadic prctl, process_vm_readv/writev).
        .systemLibrary(name: "CLinux"),
        // A Swift binding over the libfuse3 low-level API. Knows nothing of TSM.
        .target(
            name: "FuseKit",
            dependencies: ["CFuse", "CLinux", "Threads", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The pure register model: registers, flags, hashes, extend, refresh timing, provider
        // descriptions and their validation. No FUSE, no file I/O.
        .target(
            name: "TSMModel",
            dependencies: [
                "TSMBytes", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Backends behind the model's protocols: the software register model, the built-in
        // providers and devices, and the guests' report providers that sign evidence.
        .target(
            name: "TSMBackends",
            dependencies: [
                "TSMBytes", "TSMModel", "TSMEvidence", "TSMEventLog",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // What a guest is (`GuestDefinition`) and the generic assembly: from what the command line
        // gave to a tree, faults applied once for every guest; the kernel release table; verify.
        .target(
            name: "TSMGuest",
            dependencies: [
                "TSMBackends", "TSMTree", "TSMModel", "TSMEvidence", "TSMEventLog", "TSMBytes", "TSMTPM",
                .product(name: "SystemPackage", package: "swift-system"),
                // The vTPM engine's logger (TSMTPM logs through swift-log).
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The guests, one folder each (TDX, SNP, CCA), and the one list of them (`Guests`).
        .target(
            name: "TSMGuests",
            dependencies: [
                "TSMGuest", "TSMBackends", "TSMTree", "TSMModel", "TSMEvidence", "TSMEventLog", "TSMBytes", "FuseKit",
                "TSMTPM",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Layout builders that turn providers into inode trees, and the filesystem serving them.
        .target(
            name: "TSMTree",
            dependencies: ["FuseKit", "TSMModel", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The one home of byte codecs: bounds-checked little-endian reading and writing, hex, UUID
        // text, bounded whole-file reads and Unix socket addresses. Depends on nothing of ours.
        .target(name: "TSMBytes"),
        .testTarget(name: "TSMBytesTests", dependencies: ["TSMBytes"]),
        // A POSIX thread running a closure (a signal mask of its own): the one pthread_create.
        .target(name: "Threads"),
        .testTarget(name: "ThreadsTests", dependencies: ["Threads"]),
        // Cryptographic primitives swift-crypto lacks: RFC 6979 deterministic ECDSA (with its
        // bignum), deterministic RSASSA-PSS, and the CBOR / COSE_Sign1 codecs of CCA tokens.
        .target(
            name: "TSMCrypto",
            dependencies: [
                "TSMBytes",
                .product(name: "Crypto", package: "swift-crypto"),
                // RSASSA-PSS: the raw RSA private operation and PSS verification.
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "TSMCryptoTests",
            dependencies: ["TSMCrypto", "TSMBytes", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // TSMHost without a mount: child processes, stale exec directories, sd_notify.
        .testTarget(
            name: "TSMHostTests",
            dependencies: ["TSMHost", "TestSupport", .product(name: "SystemPackage", package: "swift-system")]),
        // Attestation evidence: a seeded mock authority, TDX Quote v4 and SEV-SNP report encoders,
        // parsers and a verifier. Independent of FUSE and of the register model.
        .target(
            name: "TSMEvidence",
            dependencies: [
                "TSMBytes", "TSMCrypto", .product(name: "Crypto", package: "swift-crypto"),
                // RSASSA-PSS for the AMD-shaped SEV-SNP chain (ARK, ASK).
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        // The vTPM engine: swtpm started, provisioned (EK and its certificate) and stopped per
        // mount, commands serialised to it, TPM 2.0 marshalling, the /dev/tpmrm0 resource manager
        // (tpm2-space.c). No FUSE: the devices are the daemon's.
        .target(
            name: "TSMTPM",
            dependencies: [
                "CLinux", "TSMBytes", "TSMEvidence", "Threads",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Against a real swtpm (the Debian packages swtpm and swtpm-tools).
        .testTarget(
            name: "TSMTPMTests",
            dependencies: [
                "TSMTPM", "TSMEvidence", "TSMBytes", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The control protocol of a running mount: requests parsed from one line, their replies,
        // and their execution against the model, and the owner-only socket that serves them on a
        // thread of its own. No FUSE.
        .target(
            name: "TSMControl",
            dependencies: [
                "TSMBackends", "TSMModel", "TSMBytes", "Threads",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Local HTTP services for verifiers (the PCS/PCCS v4 API of the mock TDX authority) and the
        // runner they share: listen address, readiness line, SIGTERM. The only module on Hummingbird.
        .target(
            name: "TSMServices",
            dependencies: [
                "TSMEvidence", "TSMBytes",
                .product(name: "Hummingbird", package: "hummingbird"),
                // HTTPServerBuilder, HTTP1Channel, MaximumAvailableConnections.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                // The runner's Logger (Hummingbird's logger type); imported, so declared.
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The daemon as a library: the mount lifecycle, the rules between mount options, and the reboot wiring.
        .target(
            name: "TSMDaemon",
            dependencies: [
                "CLinux", "FuseKit", "TSMHost", "TSMControl", "TSMBackends", "TSMGuest", "TSMTree", "TSMModel",
                "TSMEvidence", "TSMBytes",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Argument parsing and printing only; the daemon is TSMDaemon.
        .executableTarget(
            name: "tsmfs",
            dependencies: [
                "TSMHost", "TSMControl", "TSMDaemon", "TSMModel", "TSMBackends", "TSMGuest", "TSMGuests", "TSMEvidence",
                "TSMEventLog", "TSMServices", "TSMBytes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Boot and runtime event logs: TCG2 crypto-agile records, the ACPI CCEL table, replay to
        // RTMR values. Pure code, like the model it depends on.
        .target(
            name: "TSMEventLog",
            dependencies: ["TSMBytes", "TSMModel"]
        ),
        .testTarget(
            name: "TSMEventLogTests",
            dependencies: [
                "TSMEventLog", "TSMModel", "TSMBytes", "TestSupport", .product(name: "Crypto", package: "swift-crypto"),
            ],
            // Run by CCTrustedTests with python3, found through #filePath.
            exclude: ["check_with_cctrusted.py"]
        ),
        // Helpers more than one test target needs: hex, a seeded generator, temporary directories.
        .target(name: "TestSupport", dependencies: ["CLinux"], path: "Tests/TestSupport"),
        .testTarget(
            name: "TSMModelTests",
            // SystemPackage: the model's errors are Errno values.
            dependencies: ["TSMModel", "TestSupport", .product(name: "SystemPackage", package: "swift-system")]
        ),
        .testTarget(
            name: "TSMBackendsTests",
            // Crypto: the fuzz tests' reference model hashes on its own.
            dependencies: [
                "TSMGuest", "TSMGuests", "TSMBackends", "TSMModel", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // FuseKit without a mount: reply-once, request decoding, directory packing, loop results.
        .testTarget(
            name: "FuseKitTests",
            dependencies: ["FuseKit", "CFuse", .product(name: "SystemPackage", package: "swift-system")]
        ),
        .testTarget(
            name: "TSMControlTests",
            dependencies: ["TSMGuests", "TSMControl", "TSMBackends", "TSMModel", "TestSupport"]
        ),
        .testTarget(
            name: "TSMTreeTests",
            dependencies: ["TSMGuests", "TSMTree", "TSMModel", "TSMBackends", "FuseKit", "TestSupport"]
        ),
        // The service runner's listen addresses and the PCCS header encoding, without a server.
        .testTarget(name: "TSMServicesTests", dependencies: ["TSMServices"]),
        .testTarget(
            name: "TSMEvidenceTests",
            dependencies: [
                "TSMEvidence", "TSMCrypto", "TestSupport", "TSMBytes",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            // Run by IndependentVerifierTests with python3, found through #filePath.
            exclude: [
                "verify_evidence.py", "check_with_omne_attest.py", "check_kds.py", "check_vlek_with_omne_attest.py",
                "check_amd_crl.py", "snp_certificate_table.py", "Fixtures",
            ]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["tsmfs", "StressWorker", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
            exclude: [
                "cctrusted_client.py", "check_cca_token.py", "dcap_qvl_check.py", "sev_guest_client.c",
                "service_probe.py", "cvm_attest_client.py", "intel_tdx_client.py", "tpm_raw_client.py",
                "ioctl_fuzz_client.py", "vtpm_personality_check.py",
            ]
        ),
        // libFuzzer target over the config parser, the register write path and the CBOR decoder (Scripts/fuzz builds
        // it with -sanitize=fuzzer); a plain build is a replayer of saved inputs.
        .executableTarget(
            name: "TSMFuzz",
            dependencies: ["TSMGuest", "TSMGuests", "TSMModel", "TSMBackends", "TSMEvidence"],
            path: "Fuzz/TSMFuzz"
        ),
        // The client process the stress and fault tests spawn several of: it hammers a mount with
        // system calls and checks what it reads. Built beside tsmfs, where the tests look for it.
        .executableTarget(
            name: "StressWorker",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/StressWorker"
        ),
        // The mount option rules (every message) and the daemon's choices that need no mount.
        .testTarget(
            name: "TSMDaemonTests",
            dependencies: [
                "TSMDaemon", "TSMGuest", "TSMControl", "TSMBackends", "TSMModel", "TSMTree", "FuseKit", "TestSupport",
            ]
        ),
        // The kernel release table (--kernel), the assembly's refusals and `tsmfs log`'s reading.
        .testTarget(
            name: "TSMGuestTests",
            dependencies: [
                "TSMGuest", "TSMGuests", "TSMEvidence", "TSMEventLog", "TSMModel", "TSMTree", "TSMBackends", "FuseKit",
                "TSMBytes", "TestSupport",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
