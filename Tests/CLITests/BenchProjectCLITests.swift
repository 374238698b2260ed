import CostModel
import Data
import Foundation
import Model
import Selection
import SiftTestSupport
import Training
import XCTest

/// `sift bench` and `sift project` through the real binary: bad flags fail cleanly, the JSON holds
/// what the tables show and agrees with the FLOP count and the scaling model. No timing assertions:
/// only relations that hold whatever the machine's speed.
final class BenchProjectCLITests: XCTestCase {
    func tempDir() -> String { temporaryDirectory("bench") }

    func runOK(_ args: [String], ranks: Int? = nil) throws -> String {
        let out = try SiftProcess.run(args, ranks: ranks, timeout: 240)
        XCTAssertFalse(out.timedOut, "\(args) hung")
        XCTAssertEqual(out.status, 0, "\(args): \(out.stderr)")
        return out.stdout
    }

    func readJSON(_ path: String) throws -> [String: Any] {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path), "no \(path)")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func expectFailure(_ args: [String], mentions needle: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let out = try SiftProcess.run(args, timeout: 60)
        XCTAssertNotEqual(out.status, 0, "\(args) succeeded", file: file, line: line)
        XCTAssertTrue(out.stderr.hasPrefix("error: "), "\(args): \(out.stderr)", file: file, line: line)
        XCTAssertEqual(out.stderr.split(separator: "\n").count, 1, "\(args): \(out.stderr)", file: file, line: line)
        XCTAssertTrue(out.stderr.contains(needle), "\(args) should mention '\(needle)': \(out.stderr)", file: file, line: line)
    }

    func testBadFlags() throws {
        try expectFailure(["bench", "--only", "sgemm,bogus"], mentions: "bogus")
        try expectFailure(["bench", "--configs", "tiny,huge"], mentions: "huge")
        try expectFailure(["bench", "--exit-layers", "1,x"], mentions: "'x'")
        try expectFailure(["bench", "--json", "/nonexistent-dir/b.json"], mentions: "/nonexistent-dir")
        // BERT-large at 256 samples per rank needs about 70 GiB per rank (tiny at that batch about 4): refused
        // before anything model-sized is allocated, and at 2 ranks every rank stops.
        try expectFailure(["bench", "--configs", "large", "--only", "step", "--batch-size", "256"], mentions: "model size large needs")
        let two = try SiftProcess.run(["bench", "--configs", "large", "--only", "step", "--batch-size", "256"], ranks: 2, timeout: 60)
        XCTAssertFalse(two.timedOut, "a refused bench must not hang")
        XCTAssertEqual(two.status, 2, two.stderr)
        XCTAssertTrue(two.stderr.contains("model size large needs"), two.stderr)
        try expectFailure(["project", "--gflops", "100", "--interconnect", "pigeon"], mentions: "pigeon")
        try expectFailure(["project"], mentions: "--bench")
        try expectFailure(["project", "--gflops", "100", "--nodes", "8,x"], mentions: "--nodes")
        try expectFailure(["project", "--gflops", "100", "--exit-layer", "13"], mentions: "--exit-layer")
        try expectFailure(["project", "--forward-backward-ms", "10"], mentions: "--scoring-ms")
        try expectFailure(["project", "--check", "/nonexistent/scaling.json"], mentions: "/nonexistent/scaling.json")
        let d = tempDir()
        try "{\"runs\": []}".write(toFile: d + "/bad.json", atomically: true, encoding: .utf8)
        try expectFailure(["project", "--check", d + "/bad.json"], mentions: "scaling.sh")
        try expectFailure(["project", "--bench", d + "/bad.json"], mentions: "step")
    }

    /// `--only fidelity` on 2 ranks (3 pools split between them) against a serial recomputation here: the
    /// pools drawn from the candidate stream (seed 7, b/ρ = 64), masked as `sift train` masks (seed 1234),
    /// the exit-1 and exact losses of the library model, averaged over the pools. The last layer without
    /// dropout is the exact loss itself (Spearman and overlap exactly 1); with the training dropout it is not.
    func testFidelityMatchesASerialRecomputation() throws {
        let p = try TrainingFixture.paths()
        let d = tempDir()
        _ = try runOK(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 3, checkpointDir: d + "/ckpt",
                extra: ["--checkpoint-every", "3"]))
        _ = try runOK(
            [
                "bench", "--only", "fidelity", "--model", d + "/ckpt", "--data", p.dataset, "--configs", "tiny",
                "--vocab-size", "400", "--exit-layers", "1,2", "--score-positions", "0", "--reuse-scoring-forward", "off,on",
                "--score-vocabularies", "0",
                "--fidelity-pools", "3", "--json", d + "/bench.json"
            ], ranks: 2)
        let rows = try XCTUnwrap(try readJSON(d + "/bench.json")["fidelity"] as? [[String: Any]])
        func row(_ exit: Int, _ reuse: Bool) throws -> (spearman: Double, overlap: Double) {
            let r = try XCTUnwrap(rows.first { $0["exit_layer"] as? Int == exit && $0["reuse_scoring_forward"] as? Bool == reuse })
            return ((r["spearman"] as! NSNumber).doubleValue, (r["top_overlap"] as! NSNumber).doubleValue)
        }
        XCTAssertEqual(rows.count, 4)
        XCTAssertEqual(try row(2, false).spearman, 1)
        XCTAssertEqual(try row(2, false).overlap, 1)
        XCTAssertLessThan(try row(2, true).spearman, 1, "the training dropout must change the scores")

        let loaded = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: d + "/ckpt").last!.path)
        let model = BertForMaskedLM(config: loaded.state.config, parameters: loaded.parameters)
        let dataset = try ShardedDataset(directory: p.dataset)
        let samples = MaskedDatasetSamples(
            dataset: dataset, split: .train, masker: MLMMasker(vocabulary: try Vocabulary(path: p.vocab), seed: 1234))
        let stream = CandidateStream(sampleCount: dataset.count(.train), seed: 7)
        var spearman = 0.0, overlap = 0.0
        let poolSize = TrainingOptions().poolSize  // b/ρ at sift train's defaults, which the bench takes
        for pool in 0..<3 {
            let (indices, _) = stream.candidates(from: pool * poolSize, count: poolSize)
            var batch = MLMBatch(count: poolSize, seqLen: dataset.seqLen)
            batch.fill(indices.map { (index: $0, epoch: 0) }, from: samples)
            let exit1 = model.approximateLosses(batch, exitLayer: 1), exact = model.approximateLosses(batch, exitLayer: 2)
            spearman += try XCTUnwrap(SelectionFidelity.spearman(exit1, exact)) / 3
            overlap +=
                SelectionFidelity.topOverlap(approximate: exit1, exact: exact, globalIndices: indices, count: TrainingOptions().batchSize)
                / 3
        }
        XCTAssertEqual(try row(1, false).spearman, spearman, accuracy: 1e-6)
        XCTAssertEqual(try row(1, false).overlap, overlap, accuracy: 1e-9)
        try expectFailure(["bench", "--only", "fidelity", "--data", p.dataset], mentions: "--model")
    }

    /// One rank, tiny model, step section only, the trainer's real steps: every row is in the JSON; each
    /// step's measured phases fit inside the step; SIFT's scoring shows up as time vanilla does not spend;
    /// scoring fewer masked positions counts fewer FLOPs; and one more exit layer adds exactly one encoder
    /// layer's forward FLOPs over the pool (a closed form, not the bench's own formula); a reuse row counts
    /// its exit layers' forward over the b trained samples less.
    func testStepJSONAgreesWithItself() throws {
        let d = tempDir()
        let stdout = try runOK([
            "bench", "--configs", "tiny", "--vocab-size", "400", "--only", "step", "--batch-size", "2",
            "--select-fraction", "0.5", "--repeats", "2", "--exit-layers", "1,mid", "--score-positions", "0,4",
            "--reuse-scoring-forward", "off,on", "--score-vocabularies", "0", "--json", d + "/bench.json"
        ])
        XCTAssertTrue(stdout.contains("sift exit 2"), stdout)
        XCTAssertTrue(stdout.contains("sift exit 1, ≤4 pos."), stdout)
        XCTAssertTrue(stdout.contains("sift exit 1, ≤4 pos., reuse"), stdout)
        let root = try readJSON(d + "/bench.json")
        let all = try XCTUnwrap(root["steps"] as? [[String: Any]])
        XCTAssertEqual(all.map { $0["reuse_scoring_forward"] as? Bool }, [nil, false, true, false, true, false, true, false, true])
        let steps = all.filter { $0["reuse_scoring_forward"] as? Bool != true }
        XCTAssertEqual(steps.map { $0["step"] as? String }, ["vanilla", "sift", "sift", "sift", "sift"])
        XCTAssertEqual(steps.map { $0["exit_layer"] as? Int }, [nil, 1, 1, 2, 2])
        XCTAssertEqual(steps.map { $0["score_positions"] as? Int }, [nil, nil, 4, nil, 4])
        for row in steps {
            let s = try XCTUnwrap(row["seconds"] as? Double)
            let parts =
                (row["forward_backward_seconds"] as! Double) + (row["optimizer_seconds"] as! Double)
                + ((row["scoring_seconds"] as? Double) ?? 0)
            XCTAssertGreaterThan(parts, 0)
            XCTAssertLessThanOrEqual(parts, s * 1.001, "the measured phases exceed the step they are part of")
        }
        XCTAssertNil(steps[0]["scoring_seconds"] as? Double)
        for sift in steps.dropFirst() {
            XCTAssertEqual(sift["pool"] as? Int, 4)
            XCTAssertGreaterThan(try XCTUnwrap(sift["scoring_seconds"] as? Double), 0)
        }
        let flops = steps.map { $0["flops"] as! Double }
        XCTAssertLessThan(flops[2], flops[1], "≤ 4 positions must count fewer head FLOPs than all masked positions")
        XCTAssertLessThan(flops[4], flops[3])
        // tiny: H 128, I 512, T 128; one encoder layer's forward over the pool of 4:
        // projections and FFN 2·T·(4H² + 2HI) per sample, attention scores and context 2·2·T²·H.
        let H = 128.0, I = 512.0, T = 128.0
        let layer = 2 * T * (4 * H * H + 2 * H * I) + 4 * T * T * H
        XCTAssertEqual(flops[3] - flops[1], 4 * layer, accuracy: 1)
        // Reuse: exit 1 skips one layer's forward for the b = 2 trained samples, exit 2 two layers'.
        let reuseFLOPs = all.filter { $0["reuse_scoring_forward"] as? Bool == true }.map { $0["flops"] as! Double }
        XCTAssertEqual(flops[1] - reuseFLOPs[0], 2 * layer, accuracy: 1)
        XCTAssertEqual(flops[3] - reuseFLOPs[2], 2 * 2 * layer, accuracy: 1)
        // Executed FLOPs: the last layer at the masked positions only (closed form over the b = 2 trained
        // samples, whose masked count the dense-equivalent count's head gives away), and the same step
        // timed with the dense last layer.
        XCTAssertGreaterThan(try XCTUnwrap(steps[0]["dense_last_layer_seconds"] as? Double), 0)
        XCTAssertTrue(stdout.contains("dense last layer"), stdout)
        for row in all {
            let executed = try XCTUnwrap(row["executed_flops"] as? Double), dense = row["flops"] as! Double
            // Resuming after the last layer (reuse at exit 2 of 2), training runs no layer and the kept prefix is dense.
            if row["reuse_scoring_forward"] as? Bool == true && row["exit_layer"] as? Int == 2 {
                XCTAssertEqual(executed, dense)
            } else {
                XCTAssertLessThan(executed, dense, "the sparse last layer executes fewer products")
            }
        }
        // vanilla: saved = 3 × (2·2·(N − M)·(H² + T·H + H·I)) with N = 2·T and 1/3 of the dense head's m·H·(H + V) per row.
        let V = 400.0, vanillaDense = flops[0], vanillaExecuted = steps[0]["executed_flops"] as! Double
        let dense2 = 3 * 2 * layer * 2  // 2 layers over b = 2 samples
        let masked = (vanillaDense - dense2) / (3 * 2 * H * (H + V))
        XCTAssertEqual(masked, masked.rounded(), accuracy: 1e-6, "the head's masked rows are a whole number")
        XCTAssertEqual(vanillaDense - vanillaExecuted, 3 * 4 * (2 * T - masked) * (H * H + T * H + H * I), accuracy: 1)
        // Neither base nor mini in the run: no verdict.
        XCTAssertEqual((root["sift_targets"] as? [Any])?.count, 0)
        XCTAssertTrue(stdout.contains("not measured"), stdout)

        // sift project reads the bench JSON for the same model.
        let projected = try runOK([
            "project", "--bench", d + "/bench.json", "--config", "tiny", "--vocab-size", "400",
            "--nodes", "2,4", "--json", d + "/project.json"
        ])
        XCTAssertTrue(projected.contains("SIFT"), projected)
        let rows = try XCTUnwrap(try readJSON(d + "/project.json")["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 6)
        let compute = try XCTUnwrap(try readJSON(d + "/project.json")["compute"] as? [String: Any])
        XCTAssertEqual(
            try XCTUnwrap(compute["forward_backward_seconds_per_sample"] as? Double),
            (steps[0]["forward_backward_seconds"] as! Double) / 2, accuracy: 1e-12)
    }

    /// Mini at the bench's defaults (exit 1, `sift train`'s ρ 0.75, reuse, full and 2,048-class scoring): one
    /// verdict, on the default path's row, and it is that row's step time over the vanilla row's against +10%.
    func testMiniOverheadVerdictIsTheDefaultPathsStepRatio() throws {
        let d = tempDir()
        let stdout = try runOK([
            "bench", "--configs", "mini", "--vocab-size", "3000", "--only", "step", "--batch-size", "2",
            "--repeats", "1", "--exit-layers", "1", "--json", d + "/bench.json"
        ])
        let root = try readJSON(d + "/bench.json")
        let steps = try XCTUnwrap(root["steps"] as? [[String: Any]])
        XCTAssertEqual(steps.map { $0["score_vocabulary"] as? Int }, [nil, nil, 2048])
        let targets = try XCTUnwrap(root["sift_targets"] as? [[String: Any]])
        XCTAssertEqual(targets.count, 1)
        let t = targets[0]
        XCTAssertEqual(t["config"] as? String, "mini")
        XCTAssertEqual(t["score_vocabulary"] as? Int, 2048)
        XCTAssertEqual(t["limit"] as? Double, 0.10)
        XCTAssertEqual(t["select_fraction"] as? Double, TrainingOptions().selectFraction)
        let ratio = (steps[2]["seconds"] as! Double) / (steps[0]["seconds"] as! Double) - 1
        XCTAssertEqual(try XCTUnwrap(t["overhead"] as? Double), ratio, accuracy: 1e-12)
        XCTAssertEqual(t["met"] as? Bool, ratio <= 0.10)
        XCTAssertEqual(
            try XCTUnwrap(t["predicted_overhead"] as? Double), try XCTUnwrap(steps[2]["predicted_overhead"] as? Double), accuracy: 1e-12)
        XCTAssertTrue(stdout.contains("SIFT target — mini"), stdout)
        XCTAssertTrue(stdout.contains("SIFT target (base, exit layer 1, ρ = 0.75): not measured"), stdout)
    }

    /// Two ranks: the allreduce rows' bound is the scaling model's ring bound on the memory rates the
    /// same run measured.
    func testAllreduceBoundIsTheModelsRingBound() throws {
        let d = tempDir()
        _ = try runOK(
            [
                "bench", "--configs", "tiny", "--vocab-size", "400", "--only", "memory,allreduce", "--repeats", "1",
                "--json", d + "/bench.json"
            ], ranks: 2)
        let root = try readJSON(d + "/bench.json")
        let memory = try XCTUnwrap(root["memory"] as? [String: Any])
        let all = try XCTUnwrap(memory["all_ranks"] as? [String: Any])
        let copy = try XCTUnwrap(all["copy_bytes_per_s"] as? Double), triad = try XCTUnwrap(all["triad_bytes_per_s"] as? Double)
        let allreduce = try XCTUnwrap(root["allreduce"] as? [String: Any])
        let row = try XCTUnwrap((allreduce["gradients"] as? [[String: Any]])?.first)
        let bytes = Double(ParameterLayout(config: BertConfig.named("tiny", vocabSize: 400)!).totalCount * 4)
        XCTAssertEqual(row["bytes"] as? Double, bytes)
        let bound = try XCTUnwrap(row["ring_bound_seconds"] as? Double)
        XCTAssertEqual(
            bound,
            ScalingModel.ringAllreduceSeconds(
                bytes: bytes, ranks: 2, buckets: 1,
                medium: .sharedMemory(copyBandwidth: copy, triadBandwidth: triad, latency: 0)),
            accuracy: bound * 1e-9)
        XCTAssertGreaterThan(try XCTUnwrap(allreduce["latency_seconds"] as? Double), 0)
        // The trainer's buckets ran as a ring (OpenMPI's own choice for in-place calls is a binomial tree).
        XCTAssertEqual(allreduce["iallreduce_algorithm"] as? Int, 1)
    }

    /// A user's choice of the non-blocking allreduce's algorithm (`mpirun --mca`) wins over sift's ring.
    func testUsersAllreduceAlgorithmIsKept() throws {
        let d = tempDir()
        let out = try SiftProcess.run(
            [
                "bench", "--configs", "tiny", "--vocab-size", "400", "--only", "allreduce", "--repeats", "1",
                "--json", d + "/bench.json"
            ], ranks: 2, timeout: 240,
            extraMPIArgs: ["--mca", "coll_libnbc_iallreduce_algorithm", "2"])
        XCTAssertEqual(out.status, 0, out.stderr)
        let allreduce = try XCTUnwrap(try readJSON(d + "/bench.json")["allreduce"] as? [String: Any])
        XCTAssertEqual(allreduce["iallreduce_algorithm"] as? Int, 2)
        XCTAssertTrue(out.stdout.contains("coll_libnbc_iallreduce_algorithm = 2: binomial tree"), out.stdout)
    }

    func testProjectionFromTheFLOPCount() throws {
        let d = tempDir()
        let out = try runOK(["project", "--gflops", "5000", "--interconnect", "ib-hdr", "--nodes", "8,1024", "--json", d + "/p.json"])
        XCTAssertTrue(out.contains("InfiniBand HDR"), out)
        let root = try readJSON(d + "/p.json")
        XCTAssertEqual(
            root["gradient_bytes"] as? Double,
            Double(ParameterLayout(config: BertConfig.named("base", vocabSize: 30522)!).totalCount * 4))
        let rows = try XCTUnwrap(root["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["nodes"] as? Int }, [1, 8, 1024, 1, 8, 1024])
        for row in rows {
            let on = try XCTUnwrap(row["step_seconds_overlap"] as? Double), off = try XCTUnwrap(row["step_seconds_no_overlap"] as? Double)
            XCTAssertLessThanOrEqual(on, off)
            if row["nodes"] as? Int == 1 { XCTAssertEqual(row["efficiency_overlap"] as? Double, 1) }
        }
        // Strong scaling splits the global batch.
        let strong = try runOK(["project", "--gflops", "5000", "--global-batch", "4096", "--nodes", "64", "--json", d + "/s.json"])
        XCTAssertTrue(strong.contains("strong scaling"), strong)
        let srows = try XCTUnwrap(try readJSON(d + "/s.json")["rows"] as? [[String: Any]])
        XCTAssertEqual(srows.map { $0["global_batch"] as? Int }, [4096, 4096, 4096, 4096])
    }

    /// Weak scaling (`--batch-size` per node) grows the global batch with the nodes, and each row gives the
    /// time per sample, step time over that global batch; BERT-large projects without being allocated.
    func testWeakScalingGrowsTheGlobalBatchAndGivesTheTimePerSample() throws {
        let d = tempDir()
        let out = try runOK([
            "project", "--config", "large", "--gflops", "5000", "--batch-size", "64", "--micro-batch", "16",
            "--nodes", "8,64", "--json", d + "/p.json"
        ])
        XCTAssertTrue(out.contains("BERT-large"), out)
        XCTAssertTrue(out.contains("time/sample w/ overlap"), out)
        XCTAssertTrue(out.contains("a global batch of 64 × nodes"), out)
        let root = try readJSON(d + "/p.json")
        XCTAssertEqual(
            root["gradient_bytes"] as? Double,
            Double(ParameterLayout(config: BertConfig.named("large", vocabSize: 30522)!).totalCount * 4))
        let rows = try XCTUnwrap(root["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["nodes"] as? Int }, [1, 8, 64, 1, 8, 64])
        for row in rows {
            let nodes = try XCTUnwrap(row["nodes"] as? Int), batch = try XCTUnwrap(row["global_batch"] as? Int)
            XCTAssertEqual(batch, 64 * nodes)
            for overlap in ["overlap", "no_overlap"] {
                let step = try XCTUnwrap(row["step_seconds_\(overlap)"] as? Double)
                let perSample = try XCTUnwrap(row["seconds_per_sample_\(overlap)"] as? Double)
                XCTAssertEqual(perSample, step / Double(batch), accuracy: 1e-12 * step, "\(nodes) nodes, \(overlap)")
                let rate = try XCTUnwrap(row["samples_per_second_\(overlap)"] as? Double)
                XCTAssertEqual(perSample * rate, 1, accuracy: 1e-9, "\(nodes) nodes, \(overlap)")
            }
        }
    }

    /// README's projection examples on the committed measurement files: every file under
    /// docs/benchmarks that README or BENCHMARKS.md feeds to `sift project` still loads (a field added to
    /// the bench's JSON must not make older files unreadable), and a file that lacks a required field
    /// is refused with the field's path named.
    func testCommittedMeasurementFilesStillProject() throws {
        let docs = SiftProcess.repository.appendingPathComponent("docs/benchmarks").path
        for interconnect in ["25gbe", "ib-hdr"] {
            let out = try runOK(["project", "--config", "base", "--bench", docs + "/bench.json", "--interconnect", interconnect])
            XCTAssertTrue(out.contains("forward+backward"), out)
        }
        XCTAssertTrue(try runOK(["project", "--config", "base", "--bench", docs + "/bench-step.json"]).contains("scoring at exit 1"))
        XCTAssertTrue(try runOK(["project", "--check", docs + "/scaling.json"]).contains("predicted"))
        let d = tempDir()
        try "{\"steps\": [{\"config\": \"base\"}]}".write(toFile: d + "/old.json", atomically: true, encoding: .utf8)
        try expectFailure(["project", "--bench", d + "/old.json"], mentions: "no \"step\" in steps[0]")
    }

    /// `--check` on a hand-made scaling JSON: the 1-rank prediction is exactly the compute the
    /// 1-rank run's time split measured, and more ranks add communication.
    func testCheckUsesTheOneRankRunAsItsInput() throws {
        let d = tempDir()
        func run(_ mode: String, _ policy: String, _ p: Int, _ b: Int, step: Double) -> [String: Any] {
            [
                "mode": mode, "policy": policy, "ranks": p, "batch_size": b, "select_fraction": 0.5, "step_seconds": step,
                "times": [
                    "data": 0.001, "scoring": policy == "sift" ? 0.05 : 0, "selection": 0.0, "forward_backward": 0.4,
                    "exposed_allreduce": 0.0, "optimizer": 0.02, "waiting": 0.0
                ]
            ]
        }
        let scaling: [String: Any] = [
            "config": "tiny", "vocab_size": 400, "cores": 2, "threads_per_rank": 1, "bucket_mb": 4.0, "micro_batch": 32,
            "memory": ["all_ranks": ["copy_bytes_per_s": 1e10, "triad_bytes_per_s": 1e10]], "latency_seconds": 1e-6,
            "runs": [
                run("weak", "vanilla", 1, 8, step: 0.43), run("weak", "vanilla", 2, 16, step: 0.45),
                run("weak", "vanilla", 4, 32, step: 0.9), run("weak", "sift", 1, 8, step: 0.48),
                run("weak", "sift", 2, 16, step: 0.5)
            ]
        ]
        try JSONSerialization.data(withJSONObject: scaling).write(to: URL(fileURLWithPath: d + "/scaling.json"))
        let out = try runOK(["project", "--check", d + "/scaling.json", "--json", d + "/check.json"])
        XCTAssertTrue(out.contains("oversubscribed"), out)
        let rows = try XCTUnwrap(try readJSON(d + "/check.json")["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 5)
        func predicted(_ policy: String, _ p: Int) -> Double {
            rows.first { $0["policy"] as? String == policy && $0["ranks"] as? Int == p }!["predicted_step_seconds"] as! Double
        }
        XCTAssertEqual(predicted("vanilla", 1), 0.001 + 0.4 + 0.02, accuracy: 1e-12)
        XCTAssertEqual(predicted("sift", 1), 0.001 + 0.05 + 0.4 + 0.02, accuracy: 1e-12)
        XCTAssertGreaterThan(predicted("vanilla", 2), predicted("vanilla", 1))
        // Four ranks on two cores: compute twice as slow, plus communication.
        XCTAssertGreaterThan(predicted("vanilla", 4), 2 * predicted("vanilla", 1))
    }
}

/// `sift scaling-summary` (launch/scaling.sh's summary) on hand-made metrics files: the step time is
/// the wall clock after the warm-up step, and `project --check` reads what it writes.
final class ScalingSummaryCLITests: XCTestCase {
    func testSummaryFromMetricsFiles() throws {
        let d = temporaryDirectory("scaling")
        let machine =
            "{\"memory\": {\"all_ranks\": {\"copy_bytes_per_s\": 1e10, \"triad_bytes_per_s\": 1e10}}, "
            + "\"allreduce\": {\"gradients\": [], \"small_allreduce_seconds\": 2e-6, \"latency_seconds\": 1e-6, \"ranks\": 2}}"
        try machine.write(toFile: d + "/machine.json", atomically: true, encoding: .utf8)
        for mode in ["weak", "strong"] {
            for policy in ["vanilla", "sift"] {
                for p in [1, 2] {
                    let times =
                        "{\"data\":0.001,\"scoring\":0.05,\"selection\":0,\"forward_backward\":0.4,\"exposed_allreduce\":0.01,\"optimizer\":0.02,\"waiting\":0}"
                    let lines =
                        (1...3).map { "{\"step\":\($0),\"elapsed\":\(Double($0) * 0.5 * Double(p)),\"times\":\(times)}" }
                        + ["{\"step\":3,\"val_loss\":1.0}"]
                    try lines.joined(separator: "\n").write(toFile: d + "/\(mode)-\(policy)-p\(p).jsonl", atomically: true, encoding: .utf8)
                }
            }
        }
        let out = try SiftProcess.run(
            [
                "scaling-summary", "--out", d, "--config", "tiny", "--vocab-size", "400", "--cores", "2",
                "--steps", "3", "--per-rank-batch", "8", "--global-batch", "16", "--ranks", "1 2",
                "--select-fraction", "0.5"
            ], timeout: 60)
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stdout.contains("| 2 | weak | sift | 16 | 8 | 1.000 | 16.0 | 50% |"), out.stdout)
        let data = try XCTUnwrap(FileManager.default.contents(atPath: d + "/scaling.json"))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let runs = try XCTUnwrap(root["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.count, 8)
        XCTAssertEqual(runs[0]["step_seconds"] as? Double, 0.5)
        // The runs' ρ is the one given, and a SIFT run's pool is b/ρ.
        XCTAssertEqual(Set(runs.compactMap { $0["select_fraction"] as? Double }), [0.5])
        for run in runs where run["policy"] as? String == "sift" {
            XCTAssertEqual(run["pool_size"] as? Int, 2 * (run["batch_size"] as! Int))
        }
        let check = try SiftProcess.run(["project", "--check", d + "/scaling.json"], timeout: 60)
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(check.stdout.contains("mean |error|"), check.stdout)
    }
}
