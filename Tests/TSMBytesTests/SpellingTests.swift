import TSMBytes
import Testing

@Suite("did-you-mean spelling")
struct SpellingTests {
    let commands = ["mount", "exec", "ctl", "log", "kds", "pccs", "verify"]

    @Test("distances: insertion, deletion, substitution, and none")
    func distances() {
        #expect(Spelling.distance(Array("mount"), Array("mount")) == 0)
        #expect(Spelling.distance(Array("mout"), Array("mount")) == 1)
        #expect(Spelling.distance(Array("mounts"), Array("mount")) == 1)
        #expect(Spelling.distance(Array("verfiy"), Array("verify")) == 2)
        #expect(Spelling.distance(Array(""), Array("ctl")) == 3)
    }

    @Test("the nearest known word within two edits; none for a known word, a far one or a very long one")
    func nearest() {
        #expect(Spelling.nearest("mout", among: commands) == "mount")
        #expect(Spelling.nearest("verfiy", among: commands) == "verify")
        #expect(Spelling.nearest("mount", among: commands) == nil)
        #expect(Spelling.nearest("xyzzy", among: commands) == nil)
        #expect(Spelling.nearest(String(repeating: "m", count: 65), among: commands) == nil)
    }
}
