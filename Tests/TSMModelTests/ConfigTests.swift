import Testing
import TSMModel

@Suite("JSON provider config")
struct ConfigTests {
    func decode(_ text: String) throws(ConfigError) -> [ProviderDescriptor] {
        try ProviderConfig.decode(Array(text.utf8), file: "test.json")
    }

    @Test("a minimal config, flags in every accepted form")
    func minimal() throws {
        let providers = try decode(
            """
            {"providers": [{"name": "demo", "registers": [
              {"name": "a", "hash": "sha384", "flags": "RWXL"},
              {"name": "b", "hash": "sha256", "flags": ["R", "W"], "initial": "00ff"},
              {"name": "c", "hash": "sha512", "flags": 13},
              {"name": "d", "size": 48, "flags": "RLF", "derive": {"layout": [{"offset": 0, "hex": "aa"}, {"offset": \
            8, "register": "b"}]}}
            ]}]}
            """)
        let registers = try #require(providers.first?.registers)
        #expect(registers[0].flags == [.readable, .writable, .extensible, .live])
        #expect(registers[0].size == 48)
        #expect(registers[1].initialValue == [0x00, 0xFF] + [UInt8](repeating: 0, count: 30))
        #expect(registers[2].flags == .rtmr)
        #expect(registers[3].hash == nil)
    }

    static let refusals: [(String, String, [String])] = [
        (
            "malformed JSON", #"{"providers": ["#,
            ["test.json", "not valid JSON at line 1, column 16: expected a value"]
        ),
        (
            "a misspelt key",
            #"""
            {"providers": [{"name": "p", "registers": [{"name": "r", "hash": "sha256", "flags": "R", "intial": \#
            "00"}]}]}
            """#,
            ["unknown key 'intial'", "at .providers[0].registers[0].intial"]
        ),
        (
            "a fractional size",
            #"{"providers": [{"name": "p", "registers": [{"name": "r", "size": 1.5, "flags": "RF"}]}]}"#,
            ["size 1.5 is not a whole number of bytes", ".providers[0].registers[0].size"]
        ),
        (
            "a size of 2^64",
            #"""
            {"providers": [{"name": "p", "registers": [{"name": "r", "size": \#
            18446744073709551616, "flags": "RF"}]}]}
            """#,
            ["size out of range is not a whole number of bytes"]
        ),
        ("no providers key", #"{"provider": []}"#, ["unknown key 'provider'"]),
        ("an empty object", #"{}"#, ["missing key 'providers' at the top level"]),
        ("missing key", #"{"providers": [{"name": "x"}]}"#, ["test.json", "missing key 'registers'"]),
        (
            "unknown hash",
            #"{"providers": [{"name": "x", "registers": [{"name": "r", "hash": "md5", "flags": "R"}]}]}"#,
            ["test.json", "provider 'x'", "register 'r'", "unknown hash 'md5'"]
        ),
        (
            "size mismatch",
            #"""
            {"providers": [{"name": "x", "registers": [{"name": "r", "hash": \#
            "sha384", "size": 32, "flags": "R"}]}]}
            """#,
            ["provider 'x'", "register 'r'", "size 32 does not match sha384 (48 bytes)"]
        ),
        (
            "duplicate register",
            #"""
            {"providers": [{"name": "x", "registers": [{"name": "r", "hash": "sha256", "flags": "R"}, {"name": "r", \#
            "hash": "sha256", "flags": "R"}]}]}
            """#,
            ["register 'r'", "already exists"]
        ),
        (
            "bad hex",
            #"""
            {"providers": [{"name": "x", "registers": [{"name": "r", "hash": "sha256", "flags": "R", "initial": \#
            "zz"}]}]}
            """#,
            ["register 'r'", "not hex"]
        ),
        (
            "odd hex",
            #"""
            {"providers": [{"name": "x", "registers": [{"name": "r", "hash": "sha256", "flags": "R", "initial": \#
            "abc"}]}]}
            """#,
            ["register 'r'", "odd number"]
        ),
        (
            "empty register name",
            #"{"providers": [{"name": "x", "registers": [{"name": "", "hash": "sha256", "flags": "R"}]}]}"#,
            ["provider 'x'", "must not be empty"]
        ),
        (
            "slash in provider name",
            #"{"providers": [{"name": "a/b", "registers": [{"name": "r", "hash": "sha256", "flags": "R"}]}]}"#,
            ["provider 'a/b'", "'/'"]
        ),
        (
            "unknown flag",
            #"{"providers": [{"name": "x", "registers": [{"name": "r", "hash": "sha256", "flags": "RQ"}]}]}"#,
            ["register 'r'", "unknown flags"]
        ),
        (
            "unknown flag bit",
            #"{"providers": [{"name": "x", "registers": [{"name": "r", "hash": "sha256", "flags": 64}]}]}"#,
            ["register 'r'", "unknown flags"]
        ),
        (
            "duplicate provider",
            #"""
            {"providers": [{"name": "x", "registers": [{"name": "r", "hash": "sha256", "flags": "R"}]}, {"name": \#
            "x", "registers": [{"name": "r", "hash": "sha256", "flags": "R"}]}]}
            """#,
            ["provider 'x'", "already registered"]
        ),
        (
            "no size without hash", #"{"providers": [{"name": "x", "registers": [{"name": "r", "flags": "RF"}]}]}"#,
            ["register 'r'", "needs a size"]
        ),
        (
            "two derivations",
            #"""
            {"providers": [{"name": "x", "registers": [{"name": "r", "hash": "sha256", "flags": "RL", "derive": \#
            {}}]}]}
            """#,
            ["register 'r'", "exactly one of 'digest' or 'layout'"]
        ),
        (
            "a layout range backwards",
            #"""
            {"providers": [{"name": "x", "registers": [{"name": "r", "size": 64, "flags": "RLF", "derive": \#
            {"layout": [{"offset": 0, "mac": {"from": 9, "to": 3}}]}}]}]}
            """#,
            ["register 'r'", "covers from 9 to 3"]
        ),
        (
            "a layout mac with a hash",
            #"""
            {"providers": [{"name": "x", "registers": [{"name": "r", "size": 64, "flags": "RLF", "derive": \#
            {"layout": [{"offset": 0, "mac": {"hash": "sha256", "from": 0, "to": 3}}]}}]}]}
            """#,
            ["register 'r'", "takes no 'hash'"]
        ),
        (
            "a layout digest without a hash",
            #"""
            {"providers": [{"name": "x", "registers": [{"name": "r", "size": 64, "flags": "RLF", "derive": \#
            {"layout": [{"offset": 0, "digest": {"from": 0, "to": 3}}]}}]}]}
            """#,
            ["register 'r'", "needs a 'hash'"]
        ),
        (
            "a layout field of two kinds",
            #"""
            {"providers": [{"name": "x", "registers": [{"name": "r", "size": 64, "flags": "RLF", "derive": \#
            {"layout": [{"offset": 0, "hex": "00", "mac": {"from": 0, "to": 3}}]}}]}]}
            """#,
            ["register 'r'", "exactly one of 'register', 'hex', 'digest' or 'mac'"]
        ),
        (
            "a layout range past the register",
            #"""
            {"providers": [{"name": "x", "registers": [{"name": "r", "size": 64, "flags": "RLF", "derive": \#
            {"layout": [{"offset": 32, "mac": {"from": 0, "to": 65}}]}}]}]}
            """#,
            ["register 'r'", "covers bytes 0..<65, outside 0..<64"]
        ),
        (
            "a layout mac that covers itself",
            #"""
            {"providers": [{"name": "x", "registers": [{"name": "r", "size": 64, "flags": "RLF", "derive": \#
            {"layout": [{"offset": 32, "mac": {"from": 0, "to": 64}}]}}]}]}
            """#,
            ["register 'r'", "offset 32 writes into bytes 0..<64"]
        ),
        (
            "a layout digest written into what an earlier mac covers",
            #"""
            {"providers": [{"name": "x", "registers": [{"name": "r", "size": 64, "flags": "RLF", "derive": \#
            {"layout": [{"offset": 32, "mac": {"from": 0, "to": 32}}, \#
            {"offset": 0, "digest": {"hash": "sha256", "from": 40, "to": 64}}]}}]}]}
            """#,
            ["register 'r'", "offset 0 writes into bytes 0..<32"]
        ),
    ]

    @Test("bad configs are refused with file, provider, register and rule", arguments: refusals.indices)
    func refusal(index: Int) {
        let (label, text, fragments) = Self.refusals[index]
        do {
            let providers = try decode(text)
            Issue.record("\(label): accepted \(providers)")
        } catch {
            for fragment in fragments {
                #expect(error.description.contains(fragment), "\(label): \(error.description)")
            }
        }
    }
}
