import Foundation
import Glibc
import Testing
import TestSupport

/// `tsmfs pccs` and `tsmfs kds` against idle, slow and greedy clients, and HTTP as RFC 9110 and
/// Intel's PCS v4 say (issue 24, items 3, 8 and 12). The probes are service_probe.py.
@Suite("Local services: idle clients, descriptor limits, HTTP conformance", .serialized)
struct LocalServiceHardeningTests {
    static let probe = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("service_probe.py").path

    /// Starts `tsmfs SERVICE OPTIONS` (under `prefix`, e.g. prlimit) on a free port, waits for its
    /// ready line, runs `script` with $port and $pid set, then stops the service.
    func withService(_ service: String, options: String = "", prefix: String = "", run script: String) throws
        -> ShellResult
    {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try shell(
            """
            mkfifo '\(directory)/ready'
            \(prefix) '\(tsmfsBinary())' \(service) --listen 127.0.0.1:0 \(options) \
                > '\(directory)/ready' 2> '\(directory)/log' &
            pid=$!; trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
            read -r line < '\(directory)/ready' || { echo "no ready line: $(cat '\(directory)/log')"; exit 2; }
            port=${line##*:}
            probe() { python3 '\(Self.probe)' "$port" "$@"; }
            \(script)
            """)
    }

    @Test("an idle connection and a trickled request head are closed after --idle-timeout", arguments: ["pccs", "kds"])
    func idleClosed(service: String) throws {
        let r = try withService(service, options: "--idle-timeout 1", run: "probe idle; probe slowloris")
        #expect(r.text.contains("idle=eof"), "\(r.text) \(r.stderr)")
        #expect(r.text.contains("slowloris=eof"), "\(r.text) \(r.stderr)")
    }

    @Test("the default idle timeout closes within 90 s; --idle-timeout out of range is a usage error (64)")
    func idleTimeoutOption() throws {
        let help = try shell("'\(tsmfsBinary())' pccs --help")
        #expect(help.text.contains("default 30"), "\(help.text)")
        for (service, value) in [("pccs", "0"), ("kds", "3601")] {
            let r = try shell("'\(tsmfsBinary())' \(service) --idle-timeout \(value) 2>&1")
            #expect(r.status == 64, "\(r.text)")
            #expect(r.text.contains("--idle-timeout \(value) is not 1 to 3600 seconds"), "\(r.text)")
        }
    }

    @Test("with 60 idle clients and a 40-descriptor limit: no accept spin, and served again once they leave")
    func descriptorLimit() throws {
        let r = try withService(
            "pccs", options: "--idle-timeout 60", prefix: "prlimit --nofile=40:40", run: "probe starve $pid")
        let share = r.text.split(separator: " ").first { $0.hasPrefix("cpu_share=") }.flatMap {
            Double($0.dropFirst("cpu_share=".count))
        }
        // A spinning accept loop is a whole CPU (1.0); an idle service is ~0.
        #expect((share ?? 1) < 0.3, "\(r.text) \(r.stderr)")
        #expect(r.text.contains("served_after_leaving=True"), "\(r.text) \(r.stderr)")
    }

    @Test("HTTP/1.0 without keep-alive, and Connection: close, get their answer and then the end of the stream")
    func http10() throws {
        let r = try withService("pccs", run: "probe http10")
        #expect(
            r.text.contains("http10=eof status='HTTP/1.1 200 OK' close=True http11close=eof"), "\(r.text) \(r.stderr)")
    }

    @Test("HEAD answers as GET without a body; other methods 405 with Allow; unknown paths 404")
    func methods() throws {
        let pccs = try withService(
            "pccs",
            run: "probe statuses HEAD:/tdx/certification/v4/qe/identity POST:/tdx/certification/v4/qe/identity "
                + "DELETE:/sgx/certification/v4/rootcacrl POST:/nowhere GET:/nowhere")
        #expect(
            pccs.text.contains("HEAD:identity=200/body=0/length=") && !pccs.text.contains("length=0 ")
                && !pccs.text.contains("length=-"), "\(pccs.text) \(pccs.stderr)")
        #expect(pccs.text.contains("POST:identity=405/allow=GET, HEAD"), "\(pccs.text)")
        #expect(pccs.text.contains("DELETE:rootcacrl=405/allow=GET, HEAD"), "\(pccs.text)")
        #expect(pccs.text.contains("POST:nowhere=404 GET:nowhere=404"), "\(pccs.text)")
        let kds = try withService(
            "kds", run: "probe statuses HEAD:/vcek/v1/Milan/cert_chain PUT:/vcek/v1/Milan/cert_chain")
        #expect(kds.text.contains("HEAD:cert_chain=200/body=0"), "\(kds.text) \(kds.stderr)")
        #expect(kds.text.contains("PUT:cert_chain=405/allow=GET, HEAD"), "\(kds.text)")
    }

    @Test("bad parameters answer 400 as Intel's PCS v4; well-formed ones the mock lacks 404")
    func pcsStatusCodes() throws {
        let ppid = String(repeating: "0", count: 768), cpusvn = String(repeating: "0", count: 32)
        let r = try withService(
            "pccs",
            run: """
                probe statuses 'GET:/tdx/certification/v4/tcb' 'GET:/tdx/certification/v4/tcb?fmspc=zz00000000zz' \
                    'GET:/tdx/certification/v4/tcb?fmspc=000000000000' 'GET:/sgx/certification/v4/pckcrl' \
                    'GET:/sgx/certification/v4/pckcrl?ca=other' 'GET:/sgx/certification/v4/pckcrl?ca=processor' \
                    'GET:/sgx/certification/v4/pckcrl?ca=platform&encoding=xml' 'GET:/sgx/certification/v4/pckcert' \
                    'GET:/sgx/certification/v4/pckcert?encrypted_ppid=\(ppid)&cpusvn=\(cpusvn)&pcesvn=0000&pceid=0000'
                """)
        let codes = r.text.split(whereSeparator: \.isWhitespace).map {
            $0.split(separator: "=").dropFirst().first ?? ""
        }
        #expect(codes == ["400", "400", "404", "400", "400", "404", "400", "400", "200"], "\(r.text) \(r.stderr)")
    }

    @Test("a busy port names the address; a bad --listen is a usage error (64) naming the value, kds and pccs alike")
    func messages() throws {
        let busy = try withService("pccs", run: "'\(tsmfsBinary())' kds --listen 127.0.0.1:$port 2>&1; echo \"rc=$?\"")
        #expect(busy.text.contains("cannot listen on 127.0.0.1:"), "\(busy.text)")
        #expect(busy.text.contains("Address already in use (errno 98)"), "\(busy.text)")
        #expect(!busy.text.contains("bind(descriptor"), "\(busy.text)")
        #expect(busy.text.contains("rc=1"), "\(busy.text)")
        for service in ["kds", "pccs"] {
            for (listen, message) in [
                ("nocolon", "listen address \"nocolon\" is not ADDR:PORT"),
                ("127.0.0.1:70000", "listen port \"70000\" is not a number from 0 to 65535"),
            ] {
                let r = try shell("'\(tsmfsBinary())' \(service) --listen \(listen) 2>&1")
                #expect(r.status == 64, "\(service) \(listen): \(r.text)")
                #expect(r.text.contains(message), "\(service) \(listen): \(r.text)")
            }
        }
    }
}
