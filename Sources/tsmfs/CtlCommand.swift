import ArgumentParser
import TSMGuests
import TSMControl

/// `tsmfs ctl`: change a running mount through its control socket.
struct CtlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Change a running mount: set a register, reboot the guest, arm or clear faults.",
        discussion: """
            Talks to the mount's control socket (shown when the mount starts). Requests: \
            set PROVIDER/REGISTER HEX; extend PROVIDER/REGISTER HEX [EVENT] (the runtime log's record \
            carries EVENT); reboot (RTMRs back to boot values, the runtime event log \
            emptied, report entries removed, launch values kept, a --vtpm power-cycled and its boot \
            measured again); faults (list); faults clear; \
            fault KIND[@REGISTER][:ERRNO][:COUNT|all][:+SKIP] (sysroot mounts; as --inject-fault).
            """
    )

    @Option(help: ArgumentHelp("The control socket.", valueName: "PATH"))
    var socket: String?

    @Option(help: ArgumentHelp("The mount point (or sysroot) whose default control socket to use.", valueName: "DIR"))
    var mount: String?

    @Option(
        help: ArgumentHelp("Give up when the daemon has not answered within this many seconds.", valueName: "SECONDS"))
    var timeout: Int = ControlClient.defaultTimeout

    @Argument(
        help: "The request, e.g. `reboot` or `set tdx/mrconfigid 00ff...`.",
        completion: .custom({ CtlCompletion.candidates($0, $1, $2, providers: Guests.catalogue.plainProviders) }))
    var request: [String]

    func validate() throws {
        guard (socket == nil) != (mount == nil) else { throw ValidationError("give --socket PATH or --mount DIR") }
        guard (1...3600).contains(timeout) else { throw ValidationError("--timeout is 1 to 3600 seconds") }
        guard !request.isEmpty else { throw ValidationError("give a request: set, extend, reboot, faults or fault") }
    }

    func run() throws {
        let answer: (reply: String, ok: Bool)
        do throws(ControlClient.Failure) {
            answer = try ControlClient.request(
                request.joined(separator: " "), socket: socket, mount: mount, timeout: timeout)
        } catch {
            throw Failure(error.description)
        }
        print(answer.reply, terminator: "")
        if !answer.ok { throw ExitCode.failure }
    }
}
