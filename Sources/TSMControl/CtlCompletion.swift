import TSMBackends
import TSMModel

/// What the shell completions offer for `tsmfs ctl`'s request words.
public enum CtlCompletion {
    /// The first word of a request.
    static let requests = ["set", "extend", "reboot", "faults", "fault"]

    /// The options of `ctl` that take a value (their values are not request words).
    static let valued: Set<String> = ["--socket", "--mount", "--timeout"]

    /// Candidates for the word at `index` of the command line `words`, starting with `prefix`.
    public static func candidates(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        guard let ctl = words.firstIndex(of: "ctl"), ctl < index, index <= words.count else { return [] }
        var request: [String] = []
        var position = ctl + 1
        while position < index {
            let word = words[position]
            if valued.contains(word) {
                position += 2
                continue
            }
            if !word.hasPrefix("-") { request.append(word) }
            position += 1
        }
        return next(after: request).filter { $0.hasPrefix(prefix) }
    }

    /// The words that may follow the request words typed so far.
    static func next(after request: [String]) -> [String] {
        switch (request.first, request.count) {
        case (nil, _): return requests
        case ("set", 1): return registers { _ in true }
        case ("extend", 1): return registers { $0.flags.contains(.extensible) }
        case ("faults", 1): return ["clear"]
        case ("fault", 1): return FaultSpec.Kind.allCases.map(\.rawValue)
        default: return []
        }
    }

    /// `PROVIDER/REGISTER` of the built-in providers' registers that pass `include`.
    static func registers(_ include: (RegisterDescriptor) -> Bool) -> [String] {
        BuiltinProviders.all.flatMap { provider in provider.registers.filter(include).map { "\(provider.name)/\($0.name)" } }
    }
}
