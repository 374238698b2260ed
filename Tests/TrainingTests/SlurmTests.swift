import Foundation
import SiftTestSupport
import Training
import XCTest

/// `launch/slurm.sbatch` as shipped, under a real single-node SLURM that `launch/slurm_local.sh` brings
/// up on this machine (Debian's slurm-wlm and munge; slurmctld and slurmd on localhost, 2 CPUs): the
/// first submission runs to the end, and a job preempted by `scancel --signal=USR1` checkpoints, exits
/// 75, is requeued by the script, resumes from its checkpoint and ends bit-identical to the first.
/// SLURM is taken down in the teardown, also when the test fails.
final class SlurmTests: XCTestCase {
    static let script = SiftProcess.repository.appendingPathComponent("launch/slurm_local.sh").path
    static let sbatch = SiftProcess.repository.appendingPathComponent("launch/slurm.sbatch").path

    /// Runs a SLURM command (`sbatch`, `scontrol`, `scancel`) or the script against the cluster in `env`.
    func slurmCommand(_ program: String, _ args: [String], env: [String: String], timeout: Double = 60) throws -> SiftProcess.Output {
        let path = program.hasPrefix("/") ? program : "/usr/bin/" + program
        return try SiftProcess.run(args, timeout: timeout, environment: env, launcher: path)
    }

    /// Brings up a SLURM of this test's own (its directory and ports), registering its `down` first;
    /// returns the environment that points the SLURM commands at it. Skips only where SLURM cannot be
    /// installed or run (not root, no apt-get).
    func bringUpSlurm() throws -> [String: String] {
        guard getuid() == 0 else { throw XCTSkip("launch/slurm_local.sh needs root (slurmd runs jobs as their user)") }
        let dir = temporaryDirectory("slurm")
        var port = 20000 + 2 * (Int(getpid()) % 2000)
        for _ in 0..<5 {
            let env = ["SIFT_SLURM_DIR": dir + "/cluster", "SIFT_SLURM_PORT": "\(port)", "SLURM_CONF": dir + "/cluster/slurm.conf"]
            addTeardownBlock { _ = try? self.slurmCommand(SlurmTests.script, ["down"], env: env) }
            // The first `up` on a fresh machine installs slurm-wlm and munge (launch/test.sh does it beforehand).
            let up = try slurmCommand(SlurmTests.script, ["up"], env: env, timeout: 600)
            if up.status == 0 { return env }
            if up.stderr.contains("apt-get is not available") || up.stderr.contains("apt-get update failed")
                || up.stderr.contains("apt-get install")
            {
                throw XCTSkip("SLURM cannot be installed here: \(up.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            guard up.stderr.contains("already in use") else {
                XCTFail("launch/slurm_local.sh up failed (exit \(up.status)): \(up.stderr)")
                throw XCTSkip("no SLURM")
            }
            port = 20000 + 2 * ((port - 20000) / 2 + 311) % 4000
        }
        throw XCTSkip("no free port pair for slurmctld and slurmd")
    }

    /// `scontrol show job` of `id` as fields (JobState, ExitCode, Restarts, …).
    func job(_ id: String, env: [String: String]) throws -> [String: String] {
        let out = try slurmCommand("scontrol", ["show", "job", "-o", id], env: env)
        var fields: [String: String] = [:]
        for word in out.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            if let eq = word.firstIndex(of: "=") { fields[String(word[..<eq])] = String(word[word.index(after: eq)...]) }
        }
        return fields
    }

    /// Waits until job `id` reaches a final state (at most `timeout` s; it is cancelled then), calling
    /// `during` every 0.2 s while it has not; returns its fields.
    func waitForEnd(
        _ id: String, env: [String: String], timeout: Double, log: String,
        during: (() throws -> Void)? = nil
    ) throws -> [String: String] {
        let final: Set = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "PREEMPTED"]
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let f = try job(id, env: env)
            if let s = f["JobState"], final.contains(s) { return f }
            try during?()
            Thread.sleep(forTimeInterval: 0.2)
        }
        _ = try? slurmCommand("scancel", [id], env: env)
        let f = try job(id, env: env)
        let state = ["JobState", "Reason", "ExitCode", "Restarts"].map { "\($0)=\(f[$0] ?? "?")" }.joined(separator: " ")
        XCTFail("job \(id) did not end within \(Int(timeout)) s (\(state)); its log:\n\(text(log))")
        throw XCTSkip("job \(id) hung")
    }

    func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// The integer that follows the first `prefix` in `text`.
    func number(after prefix: String, in text: String) -> Int? {
        guard let r = text.range(of: prefix) else { return nil }
        return Int(text[r.upperBound...].prefix { $0.isNumber })
    }

    func lines(_ path: String) -> Int {
        (FileManager.default.contents(atPath: path) ?? Data()).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    func testShippedBatchScriptRunsThenIsPreemptedRequeuedAndResumesBitIdentical() throws {
        let env = try bringUpSlurm()
        let p = try TrainingFixture.paths()
        let work = temporaryDirectory("slurm-jobs")
        let steps = 12
        // The model and schedule replace the script's BERT-base settings; the step is slowed by 0.3 s
        // (no effect on the numbers) so that the preemption lands mid-run.
        let settings = [
            "--config", "tiny", "--policy", "sift", "--exit-layer", "1", "--select-fraction", "0.5",
            "--sift-delay", "0", "--batch-size", "12", "--micro-batch", "4", "--steps", "\(steps)",
            "--warmup", "2", "--lr", "2e-3", "--eval-every", "0", "--eval-samples", "16",
            "--checkpoint-every", "100", "--log-every", "1", "--seed", "99", "--debug-step-delay", "0.3"
        ]

        /// Submits the script as shipped, with sbatch options that fit one 2-CPU node (2 ranks).
        func submit(_ name: String) throws -> (id: String, ckpt: String, log: String) {
            let ckpt = work + "/\(name)/checkpoints"  // neither it nor its parent exists yet
            let log = work + "/\(name).log"
            let jobEnv = env.merging(["SIFT": SiftProcess.binary, "DATA": p.dataset, "VOCAB": p.vocab, "CKPT": ckpt]) { $1 }
            let out = try slurmCommand(
                "sbatch",
                [
                    "--parsable", "--job-name=\(name)", "--nodes=1", "--ntasks-per-node=2",
                    "--cpus-per-task=1", "--time=20", "--chdir=\(work)", "--output=\(log)",
                    SlurmTests.sbatch
                ] + settings, env: jobEnv)
            XCTAssertEqual(out.status, 0, "sbatch failed: \(out.stderr)")
            let id = out.stdout.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
            XCTAssertFalse(id.isEmpty, "sbatch printed no job id: \(out.stdout) \(out.stderr)")
            return (id, ckpt, log)
        }

        // 1. The first submission: its checkpoint folder does not exist yet.
        let first = try submit("first")
        let a = try waitForEnd(first.id, env: env, timeout: 240, log: first.log)
        XCTAssertEqual(a["JobState"], "COMPLETED", "first submission: \(a); log:\n\(text(first.log))")
        XCTAssertEqual(a["ExitCode"], "0:0")
        XCTAssertTrue(text(first.log).contains("final validation:"), text(first.log))
        let reference = try TrainingCheckpoint.load(
            path: try XCTUnwrap(
                TrainingCheckpoint.list(directory: first.ckpt).last,
                "no checkpoint in \(first.ckpt)"
            ).path)
        XCTAssertEqual(reference.state.step, steps)

        // 2. Preempted by `scancel --signal=USR1` after a few steps; the script requeues it and it resumes.
        let second = try submit("second")
        let metrics = second.ckpt + "/metrics.jsonl"
        var signalled = false
        let b = try waitForEnd(second.id, env: env, timeout: 300, log: second.log) {
            guard !signalled, self.lines(metrics) >= 3 else { return }
            let cancel = try self.slurmCommand("scancel", ["--signal=USR1", second.id], env: env)
            XCTAssertEqual(cancel.status, 0, "scancel --signal=USR1: \(cancel.stderr)")
            signalled = true
        }
        let log = text(second.log)
        XCTAssertTrue(signalled, "the job ended before it could be preempted: \(b); log:\n\(log)")
        XCTAssertEqual(b["JobState"], "COMPLETED", "preempted job: \(b); log:\n\(log)")
        XCTAssertEqual(b["ExitCode"], "0:0")
        XCTAssertEqual(b["Restarts"], "1", "the job was not requeued exactly once: \(b); log:\n\(log)")
        XCTAssertTrue(log.contains("preempted; requeueing job \(second.id)"), log)
        let stopped = try XCTUnwrap(number(after: "preempted at step ", in: log), "no preemption in the log:\n\(log)")
        XCTAssertGreaterThanOrEqual(stopped, 3)
        XCTAssertLessThan(stopped, steps, "the run was not interrupted")
        let resumedLine = log.split(separator: "\n").first { $0.hasPrefix("resumed from ") }.map(String.init) ?? ""
        XCTAssertEqual(number(after: " at step ", in: resumedLine), stopped, "the requeued job did not resume at step \(stopped):\n\(log)")
        XCTAssertTrue(log.contains("final validation:"), log)
        let resumed = try TrainingCheckpoint.load(path: try XCTUnwrap(TrainingCheckpoint.list(directory: second.ckpt).last).path)
        XCTAssertEqual(resumed.state.step, steps)
        assertBitIdentical(reference.parameters.array, resumed.parameters.array, "weights differ from the uninterrupted job's")
        assertBitIdentical(reference.m.array, resumed.m.array, "first moments differ")
        assertBitIdentical(reference.v.array, resumed.v.array, "second moments differ")
    }
}
