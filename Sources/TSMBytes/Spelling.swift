/// The word a misspelling most likely meant, for "did you mean" messages: the nearest of a list
/// of known words by Levenshtein distance (insertions, deletions, substitutions), if near enough.
public enum Spelling {
    /// Words longer than this are not compared (a distance costs their lengths' product).
    public static let maximumLength = 64

    /// The word among `known` nearest `word`, if at most `maximumDistance` edits away and `word`
    /// is not itself known; the first of equally near ones.
    public static func nearest(_ word: String, among known: [String], maximumDistance: Int = 2) -> String? {
        guard !known.contains(word), word.count <= maximumLength else { return nil }
        let scored = known.map { (word: $0, distance: distance(Array(word), Array($0))) }
        guard let best = scored.min(by: { $0.distance < $1.distance }), best.distance <= maximumDistance else {
            return nil
        }
        return best.word
    }

    /// The Levenshtein distance between `a` and `b`.
    public static func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
