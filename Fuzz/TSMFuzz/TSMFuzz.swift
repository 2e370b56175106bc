import FoundationEssentials
import Glibc
import TSMBackends
import TSMEvidence
import TSMModel
import TSMGuest
import TSMGuests

/// libFuzzer's entry point: each input is tried as a provider config, as a program of register
/// operations, as CBOR and as one input of `tsmfs verify`. With `TSMFUZZ_TARGET=verify` only the
/// last runs (`Scripts/fuzz verify`). Invariants are preconditions, so a violation is a crash
/// libFuzzer reports and saves.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if !FuzzTarget.verifyOnly {
        FuzzTarget.config(bytes)
        FuzzTarget.registers(bytes)
        FuzzTarget.cbor(bytes)
    }
    FuzzTarget.verify(bytes)
    return 0
}

enum FuzzTarget {
    /// The CBOR decoder either refuses with an `EvidenceError` or returns an item whose encoding
    /// decodes to the same item; a CCA token parse of the same bytes never traps.
    static func cbor(_ bytes: [UInt8]) {
        if let item = try? CBORDecoder.decode(bytes) {
            precondition((try? CBORDecoder.decode(item.encoded())) == item, "accepted CBOR does not round-trip")
        }
        _ = try? CCAToken.parse(bytes)
    }

    /// ProviderConfig.decode either refuses with a message naming the file, or returns tables that
    /// register, serve every readable register at its size, and read back the same when encoded.
    static func config(_ bytes: [UInt8]) {
        let descriptors: [ProviderDescriptor]
        do {
            descriptors = try ProviderConfig.decode(bytes, file: "fuzz.json")
        } catch {
            precondition(!error.message.isEmpty && error.description.hasPrefix("fuzz.json: "), "bad refusal: \(error)")
            return
        }
        for descriptor in descriptors {
            guard let provider = try? MeasurementProvider(descriptor, backend: SoftwareBackend()) else {
                preconditionFailure("accepted but not registrable: \(descriptor)")
            }
            for (index, register) in descriptor.registers.enumerated() where register.flags.contains(.readable) {
                precondition((try? provider.read(index, offset: 0, count: 4096))?.count == register.size, "short read")
            }
        }
        let again = try? ProviderConfig.decode(Array(ProviderConfig.encode(descriptors).utf8), file: "again.json")
        precondition(again == descriptors, "accepted config does not round-trip")
    }

    static let providers: [ProviderDescriptor] = Guests.catalogue.providerCatalogue

    /// Reads the input as 4-byte instructions (operation, register, offset choice, count choice)
    /// against a fresh built-in provider, with the data taken from the input itself.
    static func registers(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let descriptor = providers[Int(first) % providers.count]
        guard let provider = try? MeasurementProvider(descriptor, backend: SoftwareBackend()) else {
            preconditionFailure("a built-in provider does not register")
        }
        var position = 1
        var refreshes = 0
        // At most 64 instructions: long inputs are configs, and short runs keep the fuzzer fast.
        while position + 4 <= min(bytes.count, 257) {
            let op = bytes[position], which = Int(bytes[position + 1]) % descriptor.registers.count
            let register = descriptor.registers[which]
            let offsets: [Int64] = [0, 0, 1, Int64(register.size - 1), Int64(register.size), -1, .max, 1 << 40]
            let counts = [register.size, register.size, 0, 1, register.size - 1, register.size + 1, 4096, 4097]
            let offset = offsets[Int(bytes[position + 2]) % offsets.count]
            let count = counts[Int(bytes[position + 3]) % counts.count]
            position += 4
            if op % 2 == 0 {
                let data = (0..<count).map { bytes[(position + $0) % bytes.count] }
                let before = provider.snapshot().values[which]
                let outcome = data.withUnsafeBytes { buffer -> Int? in
                    do throws(MRError) {
                        return op % 4 == 0
                            ? try provider.write(which, offset: offset, data: buffer)
                            : try provider.extend(which, offset: offset, data: buffer)
                    } catch {
                        return nil
                    }
                }
                guard let result = outcome else {
                    precondition(provider.snapshot().values[which] == before, "a refused write changed the register")
                    continue
                }
                precondition(
                    result == 0 || (result == register.size && offset == 0),
                    "accepted \(result) of \(count) at \(offset)")
                if result == register.size {
                    let extended = op % 4 != 0 || register.flags.contains(.extensible)
                    let expected =
                        extended
                        ? (register.hash?.extend(before, with: Array(data.prefix(register.size))) ?? [])
                        : Array(data.prefix(register.size))
                    precondition(
                        provider.snapshot().values[which] == expected, "the register does not hold what the write made")
                }
            } else {
                let read = try? provider.read(which, offset: offset, count: count)
                if let read {
                    precondition(read.count <= min(max(count, 0), register.size), "read \(read.count) of \(count)")
                }
                precondition(provider.refreshCount >= refreshes, "refresh count went back")
                refreshes = provider.refreshCount
            }
        }
    }
}

/// The process entry: under libFuzzer (built with `-sanitize=fuzzer`), hands over to its driver;
/// otherwise runs the inputs named on the command line (a saved crash, a corpus) once.
///
/// SwiftPM links an executable's entry point as `main`, so libFuzzer's own `main` is not used:
/// its driver is found at run time instead.
@main
struct TSMFuzz {
    typealias Driver =
        @convention(c) (
            UnsafeMutablePointer<Int32>, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
            @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
        ) -> Int32

    static func main() {
        if let directory = getenv("TSMFUZZ_WRITE_SEEDS").map({ String(cString: $0) }) {
            exit(VerifyTarget.writeSeeds(to: directory) ? 0 : 1)
        }
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "LLVMFuzzerRunDriver") {
            let driver = unsafeBitCast(symbol, to: Driver.self)
            var argc = CommandLine.argc
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
            exit(driver(&argc, &argv, { data, size in fuzzOneInput(data, size) }))
        }
        for path in CommandLine.arguments.dropFirst() {
            guard let file = fopen(path, "rb") else {
                print("cannot open \(path)")
                exit(1)
            }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&buffer, 1, buffer.count, file)
                if n <= 0 { break }
                bytes += buffer.prefix(n)
            }
            fclose(file)
            bytes.withUnsafeBufferPointer { _ = fuzzOneInput($0.baseAddress, $0.count) }
            print("ok \(path) (\(bytes.count) bytes)")
        }
    }
}
