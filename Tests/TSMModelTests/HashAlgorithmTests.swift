import Testing
import TSMModel
import TestSupport

@Suite("Hash algorithms")
struct HashAlgorithmTests {
    @Test(
        "digest sizes and kernel names",
        arguments: [
            (HashAlgorithm.sha256, 32, 4), (.sha384, 48, 5), (.sha512, 64, 6),
        ])
    func sizes(algorithm: HashAlgorithm, size: Int, index: Int) {
        #expect(algorithm.digestSize == size)
        #expect(algorithm.kernelIndex == index)
        #expect(algorithm.digest([]).count == size)
    }

    /// FIPS 180-2 "abc" vectors: independent of tsmfs and of the extend rule.
    @Test(
        "FIPS 180 abc vectors",
        arguments: [
            (HashAlgorithm.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                .sha384,
                "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"
            ),
            (
                .sha512,
                """
                ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d44\
                23643ce80e2a9ac94fa54ca49f
                """
            ),
        ])
    func fips(algorithm: HashAlgorithm, expected: String) {
        #expect(hex(algorithm.digest(Array("abc".utf8))) == expected)
    }

    /// Extending an all-zero register with zero data, per algorithm (computed with Python hashlib;
    /// the SHA-384 one is ABI.md 6's TDG.MR.RTMR.EXTEND vector).
    @Test(
        "extend of zeros with zeros",
        arguments: [
            (HashAlgorithm.sha256, "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b"),
            (
                .sha384,
                "f57bb7ed82c6ae4a29e6c9879338c592c7d42a39135583e8ccbe3940f2344b0eb6eb8503db0ffd6a39ddd00cd07d8317"
            ),
            (
                .sha512,
                """
                ab942f526272e456ed68a979f50202905ca903a141ed98443567b11ef0bf25a552d639051a01be58558122c58e3de07d749ee5\
                9ded36acf0c55cd91924d6ba11
                """
            ),
        ])
    func extendZeros(algorithm: HashAlgorithm, expected: String) {
        let zeros = [UInt8](repeating: 0, count: algorithm.digestSize)
        #expect(hex(algorithm.extend(zeros, with: zeros)) == expected)
    }

    @Test("extend hashes old then data, without hashing the data first")
    func extendOrder() {
        let old = [UInt8](repeating: 0, count: 32)
        let data = [UInt8](repeating: 1, count: 32)
        #expect(
            hex(HashAlgorithm.sha256.extend(old, with: data))
                == "5c85955f709283ecce2b74f1b1552918819f390911816e7bb466805a38ab87f3")
        #expect(HashAlgorithm.sha256.extend(data, with: old) != HashAlgorithm.sha256.extend(old, with: data))
    }
}
