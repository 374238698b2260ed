import Data
import Foundation
import Model
import Selection
import SiftTestSupport
import Training
import XCTest

/// Real multi-rank training runs (mpirun, oversubscribed): results must not depend on the rank count,
/// the selection must equal a serial top-b, and a resumed run must equal an uninterrupted one.
final class DistributedTrainingTests: XCTestCase {
    /// Selected global indices per step, and pool/losses, from a --selection-log file.
    func selections(_ path: String) throws -> [(pool: [Int], losses: [Float], selected: [Int])] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return ((o["pool"] as! [Int]), (o["losses"] as! [NSNumber]).map { $0.floatValue }, (o["selected"] as! [Int]))
        }
    }

    /// Per-step train loss and gradient norm from a metrics file.
    func lossAndNorm(_ path: String) throws -> [(Double, Double)] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line in
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            guard let l = o["train_loss"] as? NSNumber, let g = o["grad_norm"] as? NSNumber else { return nil }
            return (l.doubleValue, g.doubleValue)
        }
    }

    func runPolicyAtOneTwoThreeRanks(_ policy: String, extra: [String] = [], upTo largest: Int = 3) throws {
        let p = try TrainingFixture.paths()
        var weights: [[Float]] = []
        var selected: [[[Int]]] = []
        var curves: [[(Double, Double)]] = []
        for ranks in 1...largest {
            let dir = temporaryDirectory("inv-\(policy)-\(ranks)")
            let log = dir + "/selection.jsonl"
            let out = try SiftProcess.run(
                TrainingFixture.trainArguments(
                    p, policy: policy, steps: 4, checkpointDir: dir + "/ckpt",
                    extra: ["--selection-log", log, "--metrics", dir + "/m.jsonl"]
                        + (policy == "proportional" || policy == "vanilla" ? [] : ["--rule", "top"]) + extra),
                ranks: ranks, timeout: 300)
            XCTAssertEqual(out.status, 0, "\(policy) at \(ranks) ranks: \(out.stderr)\n\(out.stdout)")
            XCTAssertFalse(out.timedOut)
            let ckpt = try XCTUnwrap(TrainingCheckpoint.list(directory: dir + "/ckpt").last)
            XCTAssertEqual(ckpt.step, 4)
            let state = try TrainingCheckpoint.load(path: ckpt.path).state
            XCTAssertEqual(state.runFingerprint.contains("optimizer=lamb"), extra.contains("lamb"), state.runFingerprint)
            weights.append(try TrainingCheckpoint.load(path: ckpt.path).parameters.array)
            let steps = try selections(log)
            XCTAssertEqual(steps.count, 4)
            if policy != "vanilla" {
                for (k, s) in steps.enumerated() {
                    // The distributed choice equals the serial rule over the same candidates, ties included.
                    let rule: SelectionRule = policy == "proportional" ? .proportional : .top
                    let serial = TopSelection.select(
                        rule: rule, scores: s.losses, globalIndices: s.pool, count: 12,
                        history: nil, beta: 1, seed: 99, step: k
                    ).map { s.pool[$0] }
                    XCTAssertEqual(s.selected, serial)
                    XCTAssertEqual(s.pool.count, 24)
                }
            }
            selected.append(steps.map(\.selected))
            curves.append(try lossAndNorm(dir + "/m.jsonl"))
        }
        // The logged loss and gradient norm (before clipping) agree too: a gradient-scale error at some rank
        // counts (averaging instead of summing over ranks) would show here even where clipping and Adam's
        // scale invariance hide it from the weights.
        for k in 1..<largest {
            XCTAssertEqual(curves[k].count, 4)
            for (a, b) in zip(curves[0], curves[k]) {
                XCTAssertEqual(a.0, b.0, accuracy: 1e-5 * abs(a.0), "\(policy): train loss 1 vs \(k + 1) ranks")
                XCTAssertEqual(a.1, b.1, accuracy: 1e-4 * abs(a.1), "\(policy): gradient norm 1 vs \(k + 1) ranks")
            }
        }
        for k in 1..<largest {
            XCTAssertEqual(selected[0], selected[k], "\(policy): selection differs between 1 and \(k + 1) ranks")
            XCTAssertLessThan(relativeDifference(weights[0], weights[k]), 1e-5, "\(policy): weights 1 vs \(k + 1) ranks")
        }
    }

    func testStreamPositionsTileTheStreamThroughTheSelectionWarmup() {
        for policy in [SelectionPolicy.sift, .vanilla, .exact] {
            for warm in [0, 1, 3] {
                var o = TrainingOptions()
                o.policy = policy
                o.batchSize = 8
                o.selectFraction = 0.25
                o.siftDelay = warm
                let gate = SiftStart(options: o)
                XCTAssertEqual(gate.streamStart(atStep: 0, options: o), 0)
                for s in 0..<10 {
                    XCTAssertEqual(
                        gate.streamStart(atStep: s + 1, options: o) - gate.streamStart(atStep: s, options: o),
                        gate.poolSize(atStep: s, options: o), "\(policy) warm-up \(warm) step \(s)")
                    XCTAssertEqual(gate.poolSize(atStep: s, options: o), policy == .vanilla || s < warm ? 8 : 32)
                }
            }
        }
    }

    /// With `--sift-delay 2` the first two steps are plain steps drawing exactly vanilla's pools;
    /// step 3 then scores the next b/ρ stream positions (vanilla's steps 3 and 4) and keeps the top b.
    func testSelectionWarmupTrainsPlainlyThenSelects() throws {
        let p = try TrainingFixture.paths()
        let warmDir = temporaryDirectory("warm"), plainDir = temporaryDirectory("plain")
        let warmLog = warmDir + "/selection.jsonl", plainLog = plainDir + "/selection.jsonl"
        let warm = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "sift", steps: 4, checkpointDir: warmDir + "/ckpt",
                extra: [
                    "--rule", "top", "--sift-delay", "2", "--selection-log", warmLog, "--checkpoint-every", "1", "--keep-checkpoints", "5"
                ]), ranks: 2)
        XCTAssertEqual(warm.status, 0, warm.stderr)
        let plain = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 4, checkpointDir: plainDir + "/ckpt",
                extra: ["--selection-log", plainLog, "--checkpoint-every", "1", "--keep-checkpoints", "5"]), ranks: 2)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let w = try selections(warmLog), v = try selections(plainLog)
        XCTAssertEqual(w.count, 4)
        XCTAssertEqual(v.count, 4)
        for s in 0..<2 {
            XCTAssertEqual(w[s].pool, v[s].pool, "warm-up step \(s + 1) draws vanilla's pool")
            XCTAssertEqual(Set(w[s].selected), Set(w[s].pool), "warm-up step \(s + 1) backpropagates its whole pool")
            XCTAssertTrue(w[s].losses.isEmpty, "warm-up step \(s + 1) scores nothing")
        }
        XCTAssertEqual(w[2].pool, v[2].pool + v[3].pool, "the first selecting step draws the next b/ρ positions")
        XCTAssertEqual(w[2].losses.count, 24)
        XCTAssertEqual(w[2].selected, TopSelection.top(scores: w[2].losses, globalIndices: w[2].pool, count: 12).map { w[2].pool[$0] })
        // The first two (plain) steps give vanilla's weights: compare the step-2 checkpoints.
        let w2 = try XCTUnwrap(TrainingCheckpoint.list(directory: warmDir + "/ckpt").first { $0.step == 2 })
        let v2 = try XCTUnwrap(TrainingCheckpoint.list(directory: plainDir + "/ckpt").first { $0.step == 2 })
        assertBitIdentical(
            try TrainingCheckpoint.load(path: w2.path).parameters.array, try TrainingCheckpoint.load(path: v2.path).parameters.array)
    }

    /// The selection follows losses computed outside the trainer: step 2's pool is re-scored here, in this
    /// process, from the step-1 checkpoint's weights with the library's early-exit loss on samples masked by
    /// the data module, and the logged losses and the top-b choice of 2 ranks must match that.
    func testSelectionFollowsLossesScoredIndependently() throws {
        let p = try TrainingFixture.paths()
        let dir = temporaryDirectory("independent")
        let out = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "sift", steps: 2, checkpointDir: dir + "/ckpt",
                extra: [
                    "--rule", "top", "--no-reuse-scoring-forward", "--checkpoint-every", "1", "--keep-checkpoints", "3",
                    "--selection-log", dir + "/sel.jsonl"
                ]), ranks: 2, timeout: 300)
        XCTAssertEqual(out.status, 0, out.stderr)
        let step2 = try XCTUnwrap(try selections(dir + "/sel.jsonl").last)
        let checkpoint = try XCTUnwrap(TrainingCheckpoint.list(directory: dir + "/ckpt").first { $0.step == 1 })
        let loaded = try TrainingCheckpoint.load(path: checkpoint.path)
        let model = BertForMaskedLM(config: loaded.state.config, parameters: loaded.parameters)
        let dataset = try ShardedDataset(directory: p.dataset)
        let source = MaskedDatasetSamples(
            dataset: dataset, split: .train,
            masker: MLMMasker(vocabulary: try Vocabulary(path: p.vocab), seed: 99))
        // Step 2's pool is the stream's second block of 24 (pool 24 per step, no sifting delay).
        let (indices, epochs) = CandidateStream(sampleCount: dataset.count(.train), seed: 99).candidates(from: 24, count: 24)
        XCTAssertEqual(indices, step2.pool)
        var batch = MLMBatch(count: 24, seqLen: dataset.seqLen)
        batch.fill(zip(indices, epochs).map { (index: $0, epoch: $1) }, from: source)
        let losses = model.approximateLosses(batch, exitLayer: 1)
        for (logged, here) in zip(step2.losses, losses) { XCTAssertEqual(logged, here, accuracy: 1e-5 * abs(here)) }
        XCTAssertEqual(Set(step2.selected), Set(TopSelection.top(scores: losses, globalIndices: indices, count: 12).map { indices[$0] }))
    }

    func testSiftIsIndependentOfRankCount() throws { try runPolicyAtOneTwoThreeRanks("sift") }

    func testVanillaIsIndependentOfRankCount() throws { try runPolicyAtOneTwoThreeRanks("vanilla") }

    func testExactIsIndependentOfRankCount() throws { try runPolicyAtOneTwoThreeRanks("exact") }

    func testProportionalIsIndependentOfRankCount() throws { try runPolicyAtOneTwoThreeRanks("proportional") }

    /// LAMB's trust ratios are computed after the gradient allreduce, on the summed gradient: 1 and 2 ranks
    /// train the same weights with the same losses and gradient norms.
    func testLambIsIndependentOfRankCount() throws {
        try runPolicyAtOneTwoThreeRanks("sift", extra: ["--optimizer", "lamb"], upTo: 2)
    }

    /// Many small gradient buckets reduced during backward, one reduction after backward, and the default
    /// give the same weights (2 and 3 ranks; every element's sum has the same terms).
    func testManyBucketsWithAndWithoutOverlapGiveTheSameWeights() throws {
        let p = try TrainingFixture.paths()
        func weights(_ ranks: Int, _ flags: [String]) throws -> [Float] {
            let dir = temporaryDirectory("buckets-\(ranks)")
            let out = try SiftProcess.run(
                TrainingFixture.trainArguments(p, policy: "sift", steps: 3, checkpointDir: dir, extra: flags), ranks: ranks)
            XCTAssertEqual(out.status, 0, "\(flags) at \(ranks) ranks: \(out.stderr)")
            return try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: dir).last!.path).parameters.array
        }
        let reference = try weights(1, [])
        for ranks in [2, 3] {
            let many = try weights(ranks, ["--bucket-mb", "0.01"])  // ~10 KB buckets: over a hundred of them
            let after = try weights(ranks, ["--bucket-mb", "0.01", "--no-overlap"])
            let one = try weights(ranks, ["--bucket-mb", "64"])
            XCTAssertLessThan(relativeDifference(reference, many), 1e-5, "\(ranks) ranks, many buckets")
            XCTAssertLessThan(relativeDifference(reference, after), 1e-5, "\(ranks) ranks, no overlap")
            XCTAssertLessThan(relativeDifference(reference, one), 1e-5, "\(ranks) ranks, one bucket")
            if ranks == 2 { assertBitIdentical(many, after, "overlap changes the sums") }
        }
    }

    /// `--no-rebalance` (each rank backpropagates the selected candidates of its own share) trains the
    /// same model as the default rebalancing at 3 ranks and as 1 rank, and the logged imbalance equals
    /// the closed form from the selection log: max over ranks of the selected count in the rank's share
    /// [24·r/3, 24·(r+1)/3) of the pool, times 3, over b = 12.
    func testNoRebalanceTrainsTheSameModelAndImbalanceMatchesTheSelection() throws {
        let p = try TrainingFixture.paths()
        func run(_ ranks: Int, _ flags: [String]) throws -> (
            weights: [Float], log: [(pool: [Int], losses: [Float], selected: [Int])], imbalance: [Double], perRank: [[Int]]
        ) {
            let dir = temporaryDirectory("rebalance-\(ranks)")
            let out = try SiftProcess.run(
                TrainingFixture.trainArguments(
                    p, policy: "sift", steps: 4, checkpointDir: dir + "/ckpt",
                    extra: ["--rule", "top", "--selection-log", dir + "/s.jsonl", "--metrics", dir + "/m.jsonl"] + flags),
                ranks: ranks, timeout: 300)
            XCTAssertEqual(out.status, 0, "\(flags) at \(ranks) ranks: \(out.stderr)")
            let rows = try String(contentsOfFile: dir + "/m.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }.filter { $0["imbalance"] != nil }
            return (
                try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: dir + "/ckpt").last!.path).parameters.array,
                try selections(dir + "/s.jsonl"), rows.map { ($0["imbalance"] as! NSNumber).doubleValue },
                rows.map { $0["selected_per_rank"] as! [Int] }
            )
        }
        let one = try run(1, []), balanced = try run(3, []), own = try run(3, ["--no-rebalance"])
        XCTAssertEqual(balanced.log.map(\.selected), own.log.map(\.selected))
        XCTAssertLessThan(relativeDifference(one.weights, balanced.weights), 1e-5, "rebalanced 3 ranks vs 1 rank")
        XCTAssertLessThan(relativeDifference(one.weights, own.weights), 1e-5, "--no-rebalance 3 ranks vs 1 rank")
        XCTAssertEqual(own.imbalance.count, 4)
        var uneven = 0
        for (k, step) in own.log.enumerated() {
            let positions = step.selected.map { step.pool.firstIndex(of: $0)! }
            let counts = (0..<3).map { r in positions.filter { $0 >= 8 * r && $0 < 8 * (r + 1) }.count }
            XCTAssertEqual(own.perRank[k], counts, "step \(k + 1)")
            XCTAssertEqual(own.imbalance[k], Double(counts.max()!) * 3 / 12, accuracy: 1e-4, "step \(k + 1)")
            XCTAssertEqual(
                balanced.imbalance[k], own.imbalance[k], accuracy: 1e-12, "the metric describes the selection, not the assignment")
            if counts.max()! > 4 { uneven += 1 }
        }
        XCTAssertGreaterThan(uneven, 0, "no step selected unevenly; the test would not tell rebalancing apart")
    }

    /// SIFT with the last layer at the masked positions only (the default) trains the model the dense
    /// last layer (`--dense-last-layer`) trains, with the same selections, at 1 and 2 ranks — with the
    /// kept scoring forward (training runs the sparse layer 2 of 2) and without it (scoring's exit layer 1
    /// runs sparsely too) — and the sparse runs do not depend on the rank count.
    func testSparseLastLayerTrainsTheDenseModelAtOneAndTwoRanks() throws {
        let p = try TrainingFixture.paths()
        func run(_ ranks: Int, _ flags: [String]) throws -> (weights: [Float], selected: [[Int]]) {
            let dir = temporaryDirectory("sparse-last-\(ranks)")
            let out = try SiftProcess.run(
                TrainingFixture.trainArguments(
                    p, policy: "sift", steps: 4, checkpointDir: dir + "/ckpt",
                    extra: ["--rule", "top", "--selection-log", dir + "/s.jsonl"] + flags),
                ranks: ranks, timeout: 300)
            XCTAssertEqual(out.status, 0, "\(flags) at \(ranks) ranks: \(out.stderr)")
            return (
                try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: dir + "/ckpt").last!.path).parameters.array,
                try selections(dir + "/s.jsonl").map(\.selected)
            )
        }
        for reuse in [[], ["--no-reuse-scoring-forward"]] {
            let sparse = try run(1, reuse), dense = try run(1, reuse + ["--dense-last-layer"])
            let sparse2 = try run(2, reuse), dense2 = try run(2, reuse + ["--dense-last-layer"])
            XCTAssertEqual(sparse.selected, dense.selected, "\(reuse): selections, sparse vs dense")
            XCTAssertEqual(sparse2.selected, sparse.selected, "\(reuse): selections, 2 vs 1 rank")
            print(
                "\(reuse) sparse vs dense last layer, weights after 4 steps: 1 rank "
                    + (bitDifference(sparse.weights, dense.weights) ?? "bit-identical") + "; 2 ranks "
                    + (bitDifference(sparse2.weights, dense2.weights) ?? "bit-identical"))
            XCTAssertLessThan(relativeDifference(sparse.weights, dense.weights), 1e-6, "\(reuse): weights, sparse vs dense")
            XCTAssertLessThan(relativeDifference(sparse2.weights, dense2.weights), 1e-6, "\(reuse): weights at 2 ranks")
            XCTAssertLessThan(relativeDifference(sparse.weights, sparse2.weights), 1e-5, "\(reuse): sparse, 1 vs 2 ranks")
        }
    }

    func testResumeIsBitIdentical() throws { try assertResumeIsBitIdentical() }

    /// LAMB's state is its two moments and the step count, all in the checkpoint.
    func testLambResumeIsBitIdentical() throws { try assertResumeIsBitIdentical(["--optimizer", "lamb"]) }

    func assertResumeIsBitIdentical(_ flags: [String] = []) throws {
        let p = try TrainingFixture.paths()
        let straight = temporaryDirectory("straight"), split = temporaryDirectory("split")
        let a = try SiftProcess.run(
            TrainingFixture.trainArguments(p, policy: "sift", steps: 6, checkpointDir: straight, extra: flags),
            ranks: 2)
        XCTAssertEqual(a.status, 0, a.stderr)
        // The same run interrupted after step 3 (checkpointed there), then resumed to step 6.
        let first = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "sift", steps: 6, checkpointDir: split,
                extra: flags + ["--checkpoint-every", "3", "--stop-after", "3"]),
            ranks: 2)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(TrainingCheckpoint.list(directory: split).last?.step, 3)
        let second = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "sift", steps: 6, checkpointDir: split,
                extra: flags + ["--resume"]), ranks: 2)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("resumed from"), second.stdout)
        let x = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: straight).last!.path)
        let y = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: split).last!.path)
        XCTAssertEqual(x.state.step, 6)
        XCTAssertEqual(y.state.step, 6)
        assertBitIdentical(x.parameters.array, y.parameters.array, "weights differ")
        assertBitIdentical(x.m.array, y.m.array, "first moments differ")
        assertBitIdentical(x.v.array, y.v.array, "second moments differ")
    }

    func testBadFlagsFailClearlyOnEveryRankWithoutHanging() throws {
        let p = try TrainingFixture.paths()
        let dir = temporaryDirectory("bad")
        let cases: [([String], String)] = [
            (["--exit-layer", "0"], "exit-layer"),
            (["--exit-layer", "3"], "exit-layer"),
            (["--select-fraction", "0"], "select-fraction"),
            (["--select-fraction", "1.5"], "select-fraction"),
            (["--batch-size", "0"], "batch-size"),
            (["--policy", "best"], "policy"),
            (["--lr", "-1"], "lr"),
            (["--policy", "last-loss", "--stale-scores", "3"], "--stale-scores shapes a scoring forward, and --policy last-loss has none"),
            (["--mask-cycle", "-1"], "--mask-cycle must be non-negative"),
            (["--score-vocabulary", "-1"], "--score-vocabulary must be non-negative")
        ]
        for (flags, needle) in cases {
            var args = TrainingFixture.trainArguments(p, policy: "sift", steps: 2, checkpointDir: dir)
            for i in stride(from: 0, to: flags.count, by: 2) {
                if let at = args.firstIndex(of: flags[i]) { args[at + 1] = flags[i + 1] } else { args += [flags[i], flags[i + 1]] }
            }
            let out = try SiftProcess.run(args, ranks: 2, timeout: 60)
            XCTAssertFalse(out.timedOut, "\(flags) hung")
            XCTAssertNotEqual(out.status, 0, "\(flags) was accepted")
            XCTAssertTrue(out.stderr.contains(needle), "\(flags): \(out.stderr)")
            XCTAssertFalse(out.stderr.contains("Fatal error"), "\(flags) trapped: \(out.stderr)")
        }
        // Missing data, and a batch smaller than the rank count, found after MPI starts: agreed, no hang.
        var missing = TrainingFixture.trainArguments(p, policy: "sift", steps: 2, checkpointDir: dir)
        missing[missing.firstIndex(of: "--data")! + 1] = dir + "/no-such-dataset"
        let m = try SiftProcess.run(missing, ranks: 2, timeout: 60)
        XCTAssertFalse(m.timedOut)
        XCTAssertNotEqual(m.status, 0)
        XCTAssertTrue(m.stderr.contains("no-such-dataset"), m.stderr)
        // Only rank 1's input is bad (mpirun's MPMD form gives each rank its own arguments): rank 1 names
        // the problem, rank 0 says which rank failed, both stop before any step and nobody hangs.
        let good = TrainingFixture.trainArguments(p, policy: "sift", steps: 2, checkpointDir: dir + "/one")
        var bad = good
        bad[bad.firstIndex(of: "--data")! + 1] = dir + "/rank-one-dataset"
        let one = try SiftProcess.run(good + [":", "-np", "1", SiftProcess.binary] + bad, ranks: 1, timeout: 60)
        XCTAssertFalse(one.timedOut, "a problem on one rank hung the job")
        XCTAssertNotEqual(one.status, 0)
        XCTAssertTrue(one.stderr.contains("error: rank 1: dataset \(dir)/rank-one-dataset does not exist"), one.stderr)
        XCTAssertTrue(one.stderr.contains("error: rank 1 could not start"), one.stderr)
        XCTAssertFalse(one.stdout.contains("step 1"), one.stdout)
        XCTAssertFalse(one.stderr.contains("Fatal error"), one.stderr)
        var tooSmall = TrainingFixture.trainArguments(p, policy: "sift", steps: 2, checkpointDir: dir)
        tooSmall[tooSmall.firstIndex(of: "--batch-size")! + 1] = "2"
        let t = try SiftProcess.run(tooSmall, ranks: 3, timeout: 60)
        XCTAssertFalse(t.timedOut)
        XCTAssertNotEqual(t.status, 0)
        XCTAssertTrue(t.stderr.contains("batch-size"), t.stderr)
    }
}
