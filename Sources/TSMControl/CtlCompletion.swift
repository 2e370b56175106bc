import TSMBackends
import TSMModel

/// What the shell completions offer for `tsmfs ctl`'s request words.
public enum CtlCompletion {
    /// The first word of a request.
    static let requests = ["set", "extend", "reboot", "faults", "fault"]

    /// The options of `ctl` that take a value (their values are not request words).
    static let valued: Set<String> = ["--socket", "--mount", "--timeout"]

    /// Candidates for the word at `index` of the command line `words`, starting with `prefix`;
    /// registers are offered from `providers` (a plain mount's built-in tables).
    public static func candidates(
        _ words: [String], _ index: Int, _ prefix: String,
        providers: [ProviderDescriptor]
    ) -> [String] {
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
        return next(after: request, providers: providers).filter { $0.hasPrefix(prefix) }
    }

    /// The words that may follow the request words typed so far.
    static func next(after request: [String], providers: [ProviderDescriptor]) -> [String] {
        switch (request.first, request.count) {
        case (nil, _): return requests
        case ("set", 1): return registers(providers) { _ in true }
        case ("extend", 1): return registers(providers) { $0.flags.contains(.extensible) }
        case ("faults", 1): return ["clear"]
        case ("fault", 1): return FaultSpec.Kind.allCases.map(\.rawValue)
        default: return []
        }
    }

    /// `PROVIDER/REGISTER` of the registers of `providers` that pass `include`.
    static func registers(_ providers: [ProviderDescriptor], _ include: (RegisterDescriptor) -> Bool) -> [String] {
        providers.flatMap { provider in provider.registers.filter(include).map { "\(provider.name)/\($0.name)" } }
    }
}
