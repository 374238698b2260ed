import Foundation
import SiftTestSupport
import Training
import XCTest

/// SIFT training across two hosts that share no memory: two Linux network namespaces joined by a
/// veth pair, MPI restricted to TCP over that link. The weights must equal the single-host run's.
final class TwoHostTCPTests: XCTestCase {
    let hostA = "sifta\(getpid() % 100000)", hostB = "siftb\(getpid() % 100000)"
    let subnet = "10.213.\(getpid() % 200 + 20)"

    @discardableResult
    func ip(_ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        p.arguments = args
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        return p.terminationStatus
    }

    func makeHosts() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") else { throw XCTSkip("iproute2 is not installed") }
        guard try ip(["netns", "add", hostA]) == 0 else { throw XCTSkip("cannot create network namespaces here (needs root and CAP_SYS_ADMIN)") }
        addTeardownBlock { [hostA, hostB] in
            _ = try? self.ip(["netns", "del", hostA]); _ = try? self.ip(["netns", "del", hostB])
        }
        let vethA = "va\(getpid() % 100000)", vethB = "vb\(getpid() % 100000)"
        for step in [["netns", "add", hostB], ["link", "add", vethA, "type", "veth", "peer", "name", vethB],
                     ["link", "set", vethA, "netns", hostA], ["link", "set", vethB, "netns", hostB],
                     ["-n", hostA, "addr", "add", "\(subnet).1/24", "dev", vethA], ["-n", hostB, "addr", "add", "\(subnet).2/24", "dev", vethB],
                     ["-n", hostA, "link", "set", vethA, "up"], ["-n", hostB, "link", "set", vethB, "up"],
                     ["-n", hostA, "link", "set", "lo", "up"], ["-n", hostB, "link", "set", "lo", "up"]] {
            guard try ip(step) == 0 else { throw XCTSkip("could not set up the veth link (ip \(step.joined(separator: " ")))") }
        }
    }

    func testSiftAcrossTwoNamespaceHostsOverTCPMatchesSingleHost() throws {
        try makeHosts()
        let p = try TrainingFixture.paths()
        let dir = NSTemporaryDirectory() + "sift-tcp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let local = try SiftProcess.run(TrainingFixture.trainArguments(p, policy: "sift", steps: 4, checkpointDir: dir + "/local"), ranks: 2)
        XCTAssertEqual(local.status, 0, local.stderr)

        // OpenMPI starts its daemon on the "remote" host through this agent instead of ssh.
        let agent = dir + "/netns-agent.sh"
        try """
        #!/bin/sh
        host="$1"; shift
        case "$host" in
          \(subnet).1) ns=\(hostA) ;; \(subnet).2) ns=\(hostB) ;; *) echo "netns agent: unknown host $host" >&2; exit 1 ;;
        esac
        exec /usr/sbin/ip netns exec "$ns" /bin/sh -c "$*"
        """.write(toFile: agent, atomically: true, encoding: .utf8)
        chmod(agent, 0o755)
        try "\(subnet).1 slots=1\n\(subnet).2 slots=1\n".write(toFile: dir + "/hostfile", atomically: true, encoding: .utf8)

        let run = Process()
        run.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        run.arguments = ["netns", "exec", hostA, "/usr/bin/mpirun", "-np", "2", "--hostfile", dir + "/hostfile",
                         "--mca", "plm_rsh_agent", agent, "--mca", "btl", "tcp,self",
                         "--mca", "btl_tcp_if_include", "\(subnet).0/24", "--mca", "oob_tcp_if_include", "\(subnet).0/24",
                         "-x", "OPENBLAS_NUM_THREADS", SiftProcess.binary]
            + TrainingFixture.trainArguments(p, policy: "sift", steps: 4, checkpointDir: dir + "/tcp")
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"; env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"; env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        run.environment = env
        let err = dir + "/stderr"
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        run.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        run.standardOutput = FileHandle.nullDevice
        try run.run()
        let deadline = Date().addingTimeInterval(180)
        while run.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if run.isRunning { run.terminate(); XCTFail("two-host run hung") }
        run.waitUntilExit()
        XCTAssertEqual(run.terminationStatus, 0, (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")

        let a = try TrainingCheckpoint.load(path: try XCTUnwrap(TrainingCheckpoint.list(directory: dir + "/local").last).path)
        let b = try TrainingCheckpoint.load(path: try XCTUnwrap(TrainingCheckpoint.list(directory: dir + "/tcp").last).path)
        XCTAssertEqual(b.state.step, 4)
        var diff = 0.0, norm = 0.0
        for i in 0..<a.parameters.count {
            let d = Double(a.parameters[i] - b.parameters[i]); diff += d * d; norm += Double(a.parameters[i] * a.parameters[i])
        }
        XCTAssertLessThan((diff / norm).squareRoot(), 1e-5, "weights over TCP differ from the single-host run")
    }
}
