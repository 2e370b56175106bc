import TSMBackends

/// One request of the control socket, parsed from one line of space-separated words:
///
///     set PROVIDER/REGISTER HEX   a new value for a register (launch values included)
///     extend PROVIDER/REGISTER HEX [EVENT...]   extend, recording EVENT in the runtime log
///     reboot                      RTMRs to boot values, runtime log emptied, report entries gone,
///                                 a vTPM power-cycled and its boot measured again
///     faults                      list the armed faults
///     faults clear                disarm them all
///     fault SPEC                  arm one (as --inject-fault; sysroot only)
public enum ControlRequest: Equatable, Sendable {
    /// `set PROVIDER/REGISTER HEX`: `register` is the `PROVIDER/REGISTER` path, `hex` unchecked.
    case set(register: String, hex: String)
    /// `extend PROVIDER/REGISTER HEX [EVENT...]`: the rest of the line, after one space, is the
    /// event data (text).
    case extend(register: String, hex: String, event: String)
    /// `reboot`.
    case reboot
    /// `faults`.
    case listFaults
    /// `faults clear`.
    case clearFaults
    /// `fault KIND[@REGISTER][:ERRNO][:COUNT|all][:+SKIP]`.
    case fault(FaultSpec)

    /// Why a line is not a request; the descriptions are the socket's error replies.
    public enum ParseError: Error, CustomStringConvertible, Equatable {
        /// Nothing but spaces.
        case empty
        /// No command of that name and number of words; holds the whole line.
        case unknown(String)
        /// `fault` with a spec that does not parse; holds the spec.
        case notAFault(String)

        public var description: String {
            switch self {
            case .empty: "empty request; commands: set, extend, reboot, faults, fault"
            case .unknown(let line):
                """
                unknown request '\(line)'; commands: set PROVIDER/REGISTER HEX, extend PROVIDER/REGISTER HEX \
                [EVENT], reboot, faults [clear], fault SPEC
                """
            case .notAFault(let text):
                """
                not a fault: \(text) (KIND[@REGISTER][:ERRNO][:COUNT|all][:+SKIP], KIND outblob, generation, \
                extend, mkdir or empty)
                """
            }
        }
    }

    /// Parses one request line (without its newline); words are separated by one or more spaces.
    public init(parsing line: String) throws(ParseError) {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let command = words.first else { throw .empty }
        switch (command, words.count) {
        case ("set", 3): self = .set(register: words[1], hex: words[2])
        case ("extend", 3...):
            // The event is the rest of the line as written, spaces kept.
            let event =
                words.count > 3
                ? line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true).last.map(String.init) ?? ""
                : ""
            self = .extend(register: words[1], hex: words[2], event: event)
        case ("reboot", 1): self = .reboot
        case ("faults", 1): self = .listFaults
        case ("faults", 2) where words[1] == "clear": self = .clearFaults
        case ("fault", 2):
            guard let spec = FaultSpec(parsing: words[1]) else { throw .notAFault(words[1]) }
            self = .fault(spec)
        default: throw .unknown(line)
        }
    }
}
