import Foundation
import Testing
import TestSupport

/// The bash completion script swift-argument-parser generates (the one Scripts/install and the
/// Debian package install) offers `tsmfs ctl`'s requests and what follows them, through bash's
/// real `complete` machinery and the built binary.
@Suite("shell completions")
struct CompletionTests {
    /// Sources the generated script in bash and asks it to complete `words` (the last one is the
    /// word under the cursor, at its end); returns the offered words. (Not under `set -e`: the
    /// generated functions let commands fail on purpose.)
    static func complete(_ words: [String]) throws -> [String] {
        let binary = tsmfsBinary()
        let directory = URL(fileURLWithPath: binary).deletingLastPathComponent().path
        let quoted = words.map { "'\($0)'" }.joined(separator: " ")
        let script = """
            source <("\(binary)" --generate-completion-script bash) || exit 1
            COMP_WORDS=(\(quoted)); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
            COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
            _tsmfs tsmfs "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}" || true
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let result = try shell(script, environment: ["PATH": directory + ":/usr/bin:/bin"])
        try #require(result.status == 0, "bash completion failed: \(result.stderr)")
        return result.text.split(separator: "\n").map(String.init)
    }

    @Test("after `tsmfs ctl`, with or without options, the requests are offered")
    func requests() throws {
        #expect(try Self.complete(["tsmfs", "ctl", ""]) == ["set", "extend", "reboot", "faults", "fault"])
        #expect(
            try Self.complete(["tsmfs", "ctl", "--mount", "/tmp/guest", ""]) == [
                "set", "extend", "reboot", "faults", "fault",
            ])
        #expect(try Self.complete(["tsmfs", "ctl", "--timeout", "5", "fa"]) == ["faults", "fault"])
    }

    @Test("each request's next word: registers after set, RTMRs after extend, clear after faults, kinds after fault")
    func arguments() throws {
        let registers = try Self.complete(["tsmfs", "ctl", "--mount", "/tmp/guest", "set", "tdx/rtmr"])
        #expect(registers == ["tdx/rtmr0", "tdx/rtmr1", "tdx/rtmr2", "tdx/rtmr3"])
        let extensible = try Self.complete(["tsmfs", "ctl", "--mount", "/tmp/guest", "extend", "tdx/"])
        #expect(extensible == ["tdx/rtmr0", "tdx/rtmr1", "tdx/rtmr2", "tdx/rtmr3"])
        #expect(try Self.complete(["tsmfs", "ctl", "--mount", "/tmp/guest", "faults", ""]) == ["clear"])
        #expect(
            try Self.complete(["tsmfs", "ctl", "--mount", "/tmp/guest", "fault", ""])
                == ["outblob", "generation", "extend", "mkdir", "empty"])
        #expect(try Self.complete(["tsmfs", "ctl", "--mount", "/tmp/guest", "reboot", ""]).isEmpty)
    }
}
