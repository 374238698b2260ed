import Foundation
import SiftTestSupport
import Training
import XCTest

/// Training across hosts that share no memory: a cluster in a box brought up by `launch/cluster.sh`
/// (network namespaces on one bridge, rate-limited links) and launched by `launch/mpirun.sh
/// --hostfile --agent`, as a user would. MPI between the hosts can only use TCP over those links.
/// Every cluster a test brings up is taken down in its teardown, also when the test fails.
final class ClusterTests: XCTestCase {
    static let script = SiftProcess.repository.appendingPathComponent("launch/cluster.sh").path
    static let launcher = SiftProcess.repository.appendingPathComponent("launch/mpirun.sh").path

    /// A running cluster: its number (names siftcK-*, addresses 10.213.K.0/24) and files.
    struct Cluster {
        let id: Int
        let dir: String
        var hostfile: String { dir + "/hostfile" }
        var agent: String { dir + "/agent" }
        func host(_ i: Int) -> String { "siftc\(id)-h\(i)" }
    }

    static func shell(_ path: String, _ args: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Brings up `hosts` hosts (skipping the test, with the script's reason, where it cannot) and
    /// registers `down` as teardown before anything is created.
    func cluster(hosts: Int, rate: String?) throws -> Cluster {
        let dir = temporaryDirectory("cluster")
        // A cluster number of its own, so that concurrent test runs on this machine do not meet.
        var id = 100 + Int(getpid()) % 150
        for _ in 0..<5 {
            let env = ["SIFT_CLUSTER_DIR": dir]
            addTeardownBlock { _ = try? ClusterTests.shell(ClusterTests.script, ["down", "--id", "\(id)"], environment: env) }
            let (status, out) = try ClusterTests.shell(
                ClusterTests.script, ["up", "\(hosts)", "--id", "\(id)"] + (rate.map { ["--rate", $0] } ?? []),
                environment: env)
            if status == 0 { return Cluster(id: id, dir: dir) }
            if out.contains("needs root") || out.contains("not available") || out.contains("is not installed")
                || out.contains("no bridge support")
            {
                throw XCTSkip("no cluster in a box here: \(out.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            guard out.contains("already in use") else {
                XCTFail("cluster.sh up failed: \(out)")
                throw XCTSkip("cluster.sh up failed")
            }
            id = 100 + (id - 100 + 37) % 150
        }
        throw XCTSkip("no free cluster number")
    }

    /// Runs `launch/mpirun.sh ARGS` (one OpenBLAS thread per rank); `during` is called every 0.1 s
    /// while it runs, with its stderr so far, and may act on the job. A hang ends after `timeout` s.
    func launch(
        _ args: [String], environment: [String: String] = [:], timeout: Double,
        during: ((String) -> Void)? = nil
    ) throws -> SiftProcess.Output {
        try SiftProcess.run(args, timeout: timeout, environment: environment, launcher: ClusterTests.launcher, during: during)
    }

    /// The step and weights of the newest checkpoint in `dir`.
    func lastCheckpoint(_ dir: String) throws -> (step: Int, weights: [Float]) {
        let c = try TrainingCheckpoint.load(
            path: try XCTUnwrap(TrainingCheckpoint.list(directory: dir).last, "no checkpoint in \(dir)").path)
        return (c.state.step, c.parameters.array)
    }

    /// 2 hosts × 1 rank over a 200 Mbit/s link train the same model as 1 rank, vanilla and SIFT.
    func testTwoHostsOverARateLimitedLinkTrainLikeOneRank() throws {
        let c = try cluster(hosts: 2, rate: "200mbit")
        let p = try TrainingFixture.paths()
        for policy in ["vanilla", "sift"] {
            let local = temporaryDirectory("cluster-local"), remote = temporaryDirectory("cluster-remote")
            let one = try SiftProcess.run(TrainingFixture.trainArguments(p, policy: policy, steps: 4, checkpointDir: local), ranks: 1)
            XCTAssertEqual(one.status, 0, one.stderr)
            let two = try launch(
                ["-np", "2", "--hostfile", c.hostfile, "--agent", c.agent, "--"]
                    + TrainingFixture.trainArguments(p, policy: policy, steps: 4, checkpointDir: remote), timeout: 240)
            XCTAssertFalse(two.timedOut, "two-host run hung: \(two.stderr)")
            XCTAssertEqual(two.status, 0, two.stderr)
            XCTAssertTrue(two.stdout.contains("on 2 rank(s)"), two.stdout)
            let a = try lastCheckpoint(local), b = try lastCheckpoint(remote)
            XCTAssertEqual(b.step, 4)
            XCTAssertLessThan(relativeDifference(a.weights, b.weights), 1e-5, "\(policy): weights across two hosts differ from 1 rank")
        }
    }

    /// SIFT over 2 hosts × 1 rank with `--selection-exchange threshold`: the selections (logged) and the
    /// weights are bit-identical to the allgather's over the same hosts, where the exchange's allreduces
    /// and mask allgather cross TCP.
    func testThresholdExchangeAcrossTwoHostsEqualsTheAllgather() throws {
        let c = try cluster(hosts: 2, rate: "200mbit")
        let p = try TrainingFixture.paths()
        var runs: [(log: String, weights: [Float])] = []
        for exchange in ["allgather", "threshold"] {
            let dir = temporaryDirectory("cluster-\(exchange)")
            let out = try launch(
                ["-np", "2", "--hostfile", c.hostfile, "--agent", c.agent, "--"]
                    + TrainingFixture.trainArguments(
                        p, policy: "sift", steps: 4, checkpointDir: dir + "/ckpt",
                        extra: [
                            "--rule", "top", "--selection-exchange", exchange,
                            "--selection-log", dir + "/s.jsonl"
                        ]), timeout: 240)
            XCTAssertFalse(out.timedOut, "\(exchange) across two hosts hung: \(out.stderr)")
            XCTAssertEqual(out.status, 0, out.stderr)
            XCTAssertTrue(out.stdout.contains("on 2 rank(s)"), out.stdout)
            let last = try lastCheckpoint(dir + "/ckpt")
            XCTAssertEqual(last.step, 4)
            runs.append((try String(contentsOfFile: dir + "/s.jsonl", encoding: .utf8), last.weights))
        }
        XCTAssertEqual(runs[0].log.split(separator: "\n").count, 4)
        XCTAssertEqual(runs[0].log, runs[1].log, "the selections differ between the exchanges")
        assertBitIdentical(runs[0].weights, runs[1].weights, "threshold against allgather across two hosts")
    }

    /// Host 2's link goes down mid-run. The surviving rank names the lost rank and host and stops
    /// within its watchdog limit; mpirun ends instead of waiting for the lost host's daemon; the
    /// launcher relaunches on the surviving host with 1 rank, resumes from the last checkpoint and ends
    /// where an uninterrupted 1-rank run ends (the path 2 ranks → 1 rank equals 1 rank throughout, as
    /// selections and sums do not depend on the rank count). Every checkpoint on disk stays loadable.
    func testLostHostStopsTheSurvivorAndTheRelaunchResumesOnTheRest() throws {
        let c = try cluster(hosts: 2, rate: "1gbit")
        let p = try TrainingFixture.paths()
        let steps = 12, watchdog = 30.0
        let reference = temporaryDirectory("cluster-ref")
        XCTAssertEqual(
            try SiftProcess.run(TrainingFixture.trainArguments(p, policy: "sift", steps: steps, checkpointDir: reference), ranks: 1).status,
            0)
        let dir = temporaryDirectory("cluster-lost")
        var cutAt: Date?, watchdogAt: Date?
        let run = try launch(
            ["-np", "2", "--hostfile", c.hostfile, "--agent", c.agent, "--max-restarts", "1", "--min-np", "1", "--"]
                + TrainingFixture.trainArguments(
                    p, policy: "sift", steps: steps, checkpointDir: dir,
                    extra: [
                        "--checkpoint-every", "1", "--resume-or-start", "--debug-step-delay", "0.4",
                        "--watchdog-seconds", "\(Int(watchdog))"
                    ]),
            environment: ["SIFT_ABORT_GRACE": "5"], timeout: 300
        ) { stderr in
            if cutAt == nil, (TrainingCheckpoint.list(directory: dir).last?.step ?? 0) >= 3 {
                _ = try? ClusterTests.shell("/usr/sbin/ip", ["-n", c.host(2), "link", "set", "eth0", "down"])
                cutAt = Date()
            }
            if cutAt != nil, watchdogAt == nil, stderr.contains("error: watchdog:") { watchdogAt = Date() }
        }
        XCTAssertFalse(run.timedOut, "the job hung after losing a host: \(run.stderr)")
        let cut = try XCTUnwrap(cutAt, "the run ended before host 2's link could be cut: \(run.stderr)")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("lost rank 1 on host \(c.host(2)) (10.213.\(c.id).2)"), run.stderr)
        XCTAssertLessThanOrEqual(
            try XCTUnwrap(watchdogAt).timeIntervalSince(cut), watchdog, "the survivor did not stop within its watchdog limit")
        XCTAssertTrue(run.stderr.contains("relaunching without them") && run.stderr.contains("restart 1 of 1 on 1 ranks"), run.stderr)
        XCTAssertTrue(run.stdout.contains("resumed from"), run.stdout)
        for checkpoint in TrainingCheckpoint.list(directory: dir) {
            XCTAssertNoThrow(try TrainingCheckpoint.load(path: checkpoint.path), "damaged checkpoint \(checkpoint.path)")
        }
        let x = try lastCheckpoint(reference), y = try lastCheckpoint(dir)
        XCTAssertEqual(y.step, steps)
        XCTAssertLessThan(relativeDifference(x.weights, y.weights), 1e-5, "resumed run differs from the uninterrupted one")
    }

    /// A hostfile entry that cannot work fails in seconds with a line naming it: a host the agent does
    /// not reach, a host whose link is down, a slot count that is not a positive number.
    func testBadHostfileEntriesFailFastWithAClearMessage() throws {
        let c = try cluster(hosts: 2, rate: nil)
        let p = try TrainingFixture.paths()
        let dir = temporaryDirectory("cluster-bad")
        let train = TrainingFixture.trainArguments(p, policy: "vanilla", steps: 2, checkpointDir: dir + "/ck")
        func attempt(_ hostfile: String) throws -> SiftProcess.Output {
            let path = dir + "/hostfile"
            try hostfile.write(toFile: path, atomically: true, encoding: .utf8)
            let t0 = Date()
            let out = try launch(["-np", "2", "--hostfile", path, "--agent", c.agent, "--"] + train, timeout: 60)
            XCTAssertFalse(out.timedOut, "hung on \(hostfile)")
            XCTAssertLessThan(Date().timeIntervalSince(t0), 30, "slow failure on \(hostfile)")
            XCTAssertNotEqual(out.status, 0, "accepted \(hostfile)")
            return out
        }
        let net = "10.213.\(c.id)"
        let unknown = try attempt("\(net).1 slots=1\n\(net).9 slots=1\n")
        XCTAssertTrue(unknown.stderr.contains("hostfile:2: host \(net).9 does not answer"), unknown.stderr)
        XCTAssertEqual(unknown.status, 2)
        for slots in ["two", "-1", "1x"] {
            let bad = try attempt("\(net).1 slots=1\n\(net).2 slots=\(slots)\n")
            XCTAssertTrue(bad.stderr.contains("hostfile:2: expected 'HOST [slots=N]'") || bad.stderr.contains("no slots"), bad.stderr)
        }
        let zero = try attempt("\(net).1 slots=0\n\(net).2 slots=0\n")
        XCTAssertTrue(zero.stderr.contains("has no slots"), zero.stderr)
        _ = try ClusterTests.shell("/usr/sbin/ip", ["-n", c.host(2), "link", "set", "eth0", "down"])
        let down = try attempt("\(net).1 slots=1\n\(net).2 slots=1\n")
        XCTAssertTrue(down.stderr.contains("error: mpirun could not start on host \(net).2 of"), down.stderr)
    }
}
