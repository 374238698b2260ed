import Data
import Foundation
import Model
import Selection
import SiftTestSupport
import Training
import XCTest

/// The relative rule, the reducible score and the budget-fitted schedule in real multi-rank runs.
final class SelectionRuleTrainingTests: XCTestCase {
    struct LoggedStep {
        var pool: [Int]
        var losses: [Float]
        var scores: [Float]
        var selected: [Int]
    }

    func steps(_ path: String) throws -> [LoggedStep] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let losses = (o["losses"] as! [NSNumber]).map(\.floatValue)
            return LoggedStep(
                pool: o["pool"] as! [Int], losses: losses,
                scores: (o["scores"] as? [NSNumber])?.map(\.floatValue) ?? losses, selected: o["selected"] as! [Int])
        }
    }

    /// −log unigram frequency of the masked labels of each candidate, recomputed here from the shards and
    /// the masker directly (not through the trainer's `TokenStatistics`).
    func referenceLosses(_ p: TrainingFixture.Paths, pool: [Int]) throws -> [Double] {
        let dataset = try ShardedDataset(directory: p.dataset)
        let vocabulary = try Vocabulary(path: p.vocab)
        var counts = [Int](repeating: 0, count: vocabulary.count)
        var row = [Int32](repeating: 0, count: dataset.seqLen)
        for i in 0..<dataset.count(.train) {
            row.withUnsafeMutableBufferPointer { dataset.copySequence(.train, index: i, into: $0.baseAddress!) }
            for t in row { counts[Int(t)] += 1 }
        }
        let total = Double(counts.reduce(0, +) + counts.count)
        let source = MaskedDatasetSamples(dataset: dataset, split: .train, masker: MLMMasker(vocabulary: vocabulary, seed: 99))
        let T = dataset.seqLen
        var ids = [Int32](repeating: 0, count: T), types = ids, mask = ids, labels = ids
        return pool.map { index in
            source.fill(index: index, epoch: 0, inputIds: &ids, tokenTypeIds: &types, attentionMask: &mask, labels: &labels)
            let masked = labels.filter { $0 >= 0 }
            return masked.map { -log((Double(counts[Int($0)]) + 1) / total) }.reduce(0, +) / Double(max(1, masked.count))
        }
    }

    /// relative + reducible: the same selections at 1, 2 and 3 ranks; each step's choice equals the serial
    /// rule replayed from the logged scores with a history that wraps (H 30 < 6 pools of 24); and every
    /// score is its loss minus the independently recomputed unigram reference.
    func testRelativeReducibleSelectionIsIndependentOfRankCount() throws {
        let p = try TrainingFixture.paths()
        var logs: [[LoggedStep]] = [], weights: [[Float]] = []
        for ranks in 1...3 {
            let dir = temporaryDirectory("rel-\(ranks)")
            let out = try SiftProcess.run(
                TrainingFixture.trainArguments(
                    p, policy: "sift", steps: 6, checkpointDir: dir + "/ckpt",
                    extra: [
                        "--rule", "relative", "--score", "reducible", "--history-length", "30", "--beta", "2",
                        "--selection-log", dir + "/sel.jsonl"
                    ]), ranks: ranks, timeout: 300)
            XCTAssertEqual(out.status, 0, "\(ranks) ranks: \(out.stderr)")
            logs.append(try steps(dir + "/sel.jsonl"))
            weights.append(try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: dir + "/ckpt").last!.path).parameters.array)
        }
        XCTAssertEqual(logs[0].map(\.selected), logs[1].map(\.selected), "1 vs 2 ranks")
        XCTAssertEqual(logs[0].map(\.selected), logs[2].map(\.selected), "1 vs 3 ranks")
        for k in 1...2 {
            let a = weights[0], b = weights[k]
            let diff = zip(a, b).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +),
                norm = a.map { Double($0) * Double($0) }.reduce(0, +)
            XCTAssertLessThan((diff / norm).squareRoot(), 1e-5, "weights 1 vs \(k + 1) ranks")
        }
        var history = ScoreHistory(capacity: 30)
        for (s, step) in logs[0].enumerated() {
            XCTAssertEqual(step.pool.count, 24)
            history.append(step.scores)
            let serial = TopSelection.select(
                rule: .relative, scores: step.scores, globalIndices: step.pool, count: 12,
                history: history, beta: 2, seed: 99, step: s
            ).map { step.pool[$0] }
            XCTAssertEqual(step.selected, serial, "step \(s + 1)")
            let reference = try referenceLosses(p, pool: step.pool)
            for i in step.pool.indices {
                XCTAssertEqual(Double(step.losses[i] - step.scores[i]), reference[i], accuracy: 1e-4, "step \(s + 1) candidate \(i)")
            }
        }
        // Not a top-b choice: with β = 2 over 6 steps, some selection differs from the greedy one.
        XCTAssertTrue(
            logs[0].contains { step in
                step.selected != TopSelection.top(scores: step.scores, globalIndices: step.pool, count: 12).map { step.pool[$0] }
            })
    }

    /// `--score-vocabulary`: the same selections and losses at 1 and 3 ranks; at the first step (the same
    /// weights in both runs) every candidate's loss is at most its loss over the whole vocabulary, and
    /// some are lower (the classes left out carry mass).
    func testScoreVocabularyIsRankInvariantAndBoundsTheFullLoss() throws {
        let p = try TrainingFixture.paths()
        var logs: [[LoggedStep]] = []
        for (ranks, extra) in [(1, ["--score-vocabulary", "30"]), (3, ["--score-vocabulary", "30"]), (1, [])] {
            let dir = temporaryDirectory("voc-\(ranks)-\(extra.count)")
            let out = try SiftProcess.run(
                TrainingFixture.trainArguments(
                    p, policy: "sift", steps: 3, checkpointDir: dir + "/ckpt",
                    extra: extra + ["--selection-log", dir + "/sel.jsonl"]), ranks: ranks, timeout: 300)
            XCTAssertEqual(out.status, 0, "\(ranks) ranks \(extra): \(out.stderr)")
            if ranks == 1 && !extra.isEmpty { XCTAssertTrue(out.stdout.contains("scored over the 30 most frequent tokens"), out.stdout) }
            logs.append(try steps(dir + "/sel.jsonl"))
        }
        XCTAssertEqual(logs[0].map(\.selected), logs[1].map(\.selected), "1 vs 3 ranks")
        for (a, b) in zip(logs[0], logs[1]) {
            for (x, y) in zip(a.losses, b.losses) { XCTAssertEqual(x, y, accuracy: 1e-5 * max(1, abs(x))) }
        }
        let subset = logs[0][0], full = logs[2][0]
        XCTAssertEqual(subset.pool, full.pool)
        for (x, y) in zip(subset.losses, full.losses) { XCTAssertLessThanOrEqual(x, y + 1e-5) }
        XCTAssertTrue(zip(subset.losses, full.losses).contains { $0 < $1 - 1e-3 })
    }

    /// A run stopped with the relative rule's history in flight and resumed ends bit-identical to one
    /// that was never interrupted (the history travels in the checkpoint).
    func testResumeWithScoreHistoryIsBitIdentical() throws {
        let p = try TrainingFixture.paths()
        let straight = temporaryDirectory("hstraight"), split = temporaryDirectory("hsplit")
        let flags = ["--rule", "relative", "--history-length", "40", "--beta", "1"]
        let a = try SiftProcess.run(
            TrainingFixture.trainArguments(p, policy: "sift", steps: 6, checkpointDir: straight, extra: flags), ranks: 2)
        XCTAssertEqual(a.status, 0, a.stderr)
        let first = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "sift", steps: 6, checkpointDir: split,
                extra: flags + ["--checkpoint-every", "3", "--stop-after", "3"]), ranks: 2)
        XCTAssertEqual(first.status, 0, first.stderr)
        let mid = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: split).last!.path)
        XCTAssertEqual(mid.state.scoreHistory?.count, 40, "three pools of 24 fill a history of 40")
        let second = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "sift", steps: 6, checkpointDir: split,
                extra: flags + ["--resume"]), ranks: 2)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("resumed from"), second.stdout)
        let x = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: straight).last!.path)
        let y = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: split).last!.path)
        XCTAssertEqual(y.state.step, 6)
        XCTAssertEqual(x.state.scoreHistory, y.state.scoreHistory)
        assertBitIdentical(x.parameters.array, y.parameters.array, "weights differ")
        assertBitIdentical(x.v.array, y.v.array, "second moments differ")
    }

    /// --time-budget without --steps: the length is fixed after 10 timed steps past the warm-up, saved in
    /// the checkpoint, and the logged learning rates then follow the linear decay to 0 at that length.
    func testTimeBudgetFitsTheScheduleLength() throws {
        let p = try TrainingFixture.paths()
        let dir = temporaryDirectory("budget")
        var args = TrainingFixture.trainArguments(
            p, policy: "vanilla", steps: 1, checkpointDir: dir + "/ckpt",
            extra: ["--time-budget", "4", "--schedule-refit-every", "0", "--metrics", dir + "/m.jsonl"])
        let at = args.firstIndex(of: "--steps")!
        args.removeSubrange(at...(at + 1))
        let out = try SiftProcess.run(args, ranks: 2, timeout: 120)
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stdout.contains("schedule fitted to the 4 s budget"), out.stdout)
        let state = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: dir + "/ckpt").last!.path).state
        let fitted = try XCTUnwrap(state.fittedSchedule)
        XCTAssertEqual(fitted.decayStart, 12, "warm-up 2 + 10 calibration steps")
        XCTAssertGreaterThan(fitted.totalSteps, fitted.decayStart)
        XCTAssertLessThanOrEqual(state.step, fitted.totalSteps)
        let rows = try String(contentsOfFile: dir + "/m.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.filter { $0["lr"] != nil }
        for r in rows {
            let step = r["step"] as! Int, lr = (r["lr"] as! NSNumber).doubleValue
            let expected =
                step <= 2
                ? 2e-3 * Double(step) / 2
                : step <= fitted.decayStart ? 2e-3 : 2e-3 * Double(fitted.totalSteps - step) / Double(fitted.totalSteps - fitted.decayStart)
            XCTAssertEqual(lr, expected, accuracy: 1e-8, "step \(step)")
        }

        // Re-fitted every 5 steps: the rate keeps decaying without a jump, and from the last re-fit on it
        // is linear from that step's rate to 0 at the last re-fit's end.
        let again = temporaryDirectory("budget-refit")
        args = TrainingFixture.trainArguments(
            p, policy: "vanilla", steps: 1, checkpointDir: again + "/ckpt",
            extra: ["--time-budget", "4", "--schedule-refit-every", "5", "--metrics", again + "/m.jsonl"])
        args.removeSubrange(at...(at + 1))
        let refitted = try SiftProcess.run(args, ranks: 2, timeout: 120)
        XCTAssertEqual(refitted.status, 0, refitted.stderr)
        let last = try XCTUnwrap(
            try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: again + "/ckpt").last!.path).state.fittedSchedule)
        XCTAssertGreaterThan(last.decayStart, 12, "no re-fit happened: \(refitted.stdout)")
        let start = try XCTUnwrap(last.startRate)
        let rates = try String(contentsOfFile: again + "/m.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.filter { $0["lr"] != nil }
            .map { ($0["step"] as! Int, ($0["lr"] as! NSNumber).doubleValue) }
        for (a, b) in zip(rates, rates.dropFirst()) where a.0 >= 12 {
            XCTAssertLessThanOrEqual(b.1, a.1 + 1e-12, "the rate rose from step \(a.0) to \(b.0)")
            XCTAssertLessThan(a.1 - b.1, 2e-3 / 4, "the rate jumped from step \(a.0) to \(b.0)")
        }
        for (s, lr) in rates where s >= last.decayStart {
            XCTAssertEqual(
                lr, Double(start) * Double(last.totalSteps - s) / Double(last.totalSteps - last.decayStart), accuracy: 1e-8, "step \(s)")
        }
    }

    /// --time-budget with an explicit --steps stops on the clock: steps slowed to ≥ 0.25 s end the run
    /// with the budget message at the first step whose agreed elapsed time reached 3 s (the step before
    /// it was still under the budget), long before --steps, and its checkpoint records that step and time.
    func testTimeBudgetStopsTheRunOnTheClock() throws {
        let p = try TrainingFixture.paths()
        let dir = temporaryDirectory("budget-stop")
        let out = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 1000, checkpointDir: dir + "/ckpt",
                extra: ["--time-budget", "3", "--debug-step-delay", "0.25", "--eval-samples", "0", "--metrics", dir + "/m.jsonl"]),
            ranks: 2, timeout: 120)
        XCTAssertEqual(out.status, 0, out.stderr)
        let match = try XCTUnwrap(
            out.stdout.range(of: #"time budget of 3 s reached at step (\d+)"#, options: .regularExpression),
            out.stdout)
        let step = Int(out.stdout[match].split(separator: " ").last!)!
        XCTAssertTrue((2...12).contains(step), "stopped at step \(step)")
        let state = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: dir + "/ckpt").last!.path).state
        XCTAssertEqual(state.step, step)
        XCTAssertGreaterThanOrEqual(state.elapsedSeconds, 3)
        let rows = try String(contentsOfFile: dir + "/m.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let elapsed = rows.filter { $0["final"] == nil }.map { ($0["step"] as! Int, ($0["elapsed"] as! NSNumber).doubleValue) }
        let before = try XCTUnwrap(elapsed.last { $0.0 == step - 1 })
        XCTAssertLessThan(before.1, 3, "the run went on past the budget")
        // The final evaluation is off the clock: its record carries the last step's training time, not the
        // time after evaluating (the whole validation split here, so evaluating takes measurable time).
        let final = try XCTUnwrap(rows.last { $0["final"] as? Bool == true })
        XCTAssertEqual((final["elapsed"] as! NSNumber).doubleValue, try XCTUnwrap(elapsed.last).1, "final record's clock")
    }

    /// An 8-step run on 2 ranks, and the same run stopped at step 4 and resumed, end with the same
    /// stale-score table (present at the stop) and bit-identical weights.
    func assertStopAndResumeIsBitIdentical(
        policy: String, flags: [String], tag: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let p = try TrainingFixture.paths()
        let straight = temporaryDirectory("\(tag)-straight"), split = temporaryDirectory("\(tag)-split")
        let a = try SiftProcess.run(
            TrainingFixture.trainArguments(p, policy: policy, steps: 8, checkpointDir: straight, extra: flags), ranks: 2)
        XCTAssertEqual(a.status, 0, a.stderr, file: file, line: line)
        let first = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: policy, steps: 8, checkpointDir: split,
                extra: flags + ["--checkpoint-every", "4", "--stop-after", "4"]), ranks: 2)
        XCTAssertEqual(first.status, 0, first.stderr, file: file, line: line)
        XCTAssertNotNil(
            try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: split).last!.path).state.staleScores,
            "no table in the step-4 checkpoint", file: file, line: line)
        let second = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: policy, steps: 8, checkpointDir: split,
                extra: flags + ["--resume"]), ranks: 2)
        XCTAssertEqual(second.status, 0, second.stderr, file: file, line: line)
        let x = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: straight).last!.path)
        let y = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: split).last!.path)
        XCTAssertEqual(y.state.step, 8, file: file, line: line)
        XCTAssertEqual(x.state.staleScores, y.state.staleScores, file: file, line: line)
        assertBitIdentical(x.parameters.array, y.parameters.array, "weights differ", file: file, line: line)
    }

    /// --stale-scores: on a 48-sample subset (pool 24, so a sample returns every 2 steps) scores up to 3
    /// steps old are reused; fewer candidates are scored, the selections match at 1, 2 and 3 ranks, and a
    /// run resumed with the table in flight ends bit-identical.
    func testStaleScoresAreReusedRankInvariantlyAndResumeExactly() throws {
        let p = try TrainingFixture.paths()
        let flags = ["--rule", "relative", "--stale-scores", "3", "--train-subset", "48"]
        var logs: [[LoggedStep]] = []
        var scored: [Int] = []
        for ranks in 1...3 {
            let dir = temporaryDirectory("stale-\(ranks)")
            let out = try SiftProcess.run(
                TrainingFixture.trainArguments(
                    p, policy: "sift", steps: 8, checkpointDir: dir + "/ckpt",
                    extra: flags + ["--selection-log", dir + "/sel.jsonl", "--metrics", dir + "/m.jsonl"]), ranks: ranks, timeout: 300)
            XCTAssertEqual(out.status, 0, "\(ranks) ranks: \(out.stderr)")
            logs.append(try steps(dir + "/sel.jsonl"))
            let last = try String(contentsOfFile: dir + "/m.jsonl", encoding: .utf8).split(separator: "\n")
                .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.last { $0["samples_scored"] != nil }
            scored.append(try XCTUnwrap(last?["samples_scored"] as? Int))
        }
        XCTAssertEqual(logs[0].map(\.selected), logs[1].map(\.selected), "1 vs 2 ranks")
        XCTAssertEqual(logs[0].map(\.selected), logs[2].map(\.selected), "1 vs 3 ranks")
        XCTAssertEqual(Set(scored).count, 1, "scored counts differ across rank counts: \(scored)")
        // Steps 1-2 score all 48 samples; afterwards a sample is rescored only once its score is > 3 steps old.
        XCTAssertLessThan(scored[0], 8 * 24)
        XCTAssertGreaterThanOrEqual(scored[0], 48)
        // A sample back within 3 steps of its last scoring carries exactly the loss it was scored with then.
        var scoredAt: [Int: (step: Int, loss: Float)] = [:]
        var reused = 0
        for (k, step) in logs[0].enumerated() {
            for (i, sample) in step.pool.enumerated() {
                if let previous = scoredAt[sample], k - previous.step <= 3 {
                    XCTAssertEqual(step.losses[i], previous.loss, "step \(k + 1) sample \(sample)")
                    reused += 1
                } else {
                    scoredAt[sample] = (k, step.losses[i])
                }
            }
        }
        XCTAssertEqual(reused, 8 * 24 - scored[0], "reused + scored = all candidates")
        try assertStopAndResumeIsBitIdentical(policy: "sift", flags: flags, tag: "stale")
    }

    /// --policy last-loss on a 48-sample subset (pool 24, a sample returns every 2 steps): nothing is scored;
    /// the selections match at 1, 2 and 3 ranks and are the top b of the logged values (null, a sample never
    /// backpropagated, = +∞); a sample's value changes only after a step that backpropagated it; the final
    /// table holds the last step's selection stamped with that step, whose losses weighted by their masked
    /// counts (recounted here from the masker) give that step's logged training loss; and a run resumed
    /// with the table in flight ends bit-identical.
    func testLastLossSelectsByRecordedTrainingLossesRankInvariantlyAndResumesExactly() throws {
        let p = try TrainingFixture.paths()
        let flags = ["--policy", "last-loss", "--train-subset", "48"]
        func logged(_ path: String) throws -> [LoggedStep] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
                let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                let losses = (o["losses"] as! [Any]).map { ($0 as? NSNumber)?.floatValue ?? .infinity }
                return LoggedStep(pool: o["pool"] as! [Int], losses: losses, scores: losses, selected: o["selected"] as! [Int])
            }
        }
        var logs: [[LoggedStep]] = []
        var metrics: [[String: Any]] = []
        var table: StaleScoreTable?
        for ranks in 1...3 {
            let dir = temporaryDirectory("last-loss-\(ranks)")
            let out = try SiftProcess.run(
                TrainingFixture.trainArguments(
                    p, policy: "last-loss", steps: 8, checkpointDir: dir + "/ckpt",
                    extra: flags + ["--selection-log", dir + "/sel.jsonl", "--metrics", dir + "/m.jsonl"]), ranks: ranks, timeout: 300)
            XCTAssertEqual(out.status, 0, "\(ranks) ranks: \(out.stderr)")
            logs.append(try logged(dir + "/sel.jsonl"))
            if ranks == 2 {
                metrics = try String(contentsOfFile: dir + "/m.jsonl", encoding: .utf8).split(separator: "\n")
                    .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                let snapshot = try XCTUnwrap(
                    try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: dir + "/ckpt").last!.path).state.staleScores)
                table = StaleScoreTable(snapshot: snapshot, samples: 48)
            }
        }
        XCTAssertEqual(logs[0].map(\.selected), logs[1].map(\.selected), "1 vs 2 ranks")
        XCTAssertEqual(logs[0].map(\.selected), logs[2].map(\.selected), "1 vs 3 ranks")
        XCTAssertEqual(metrics.last { $0["samples_scored"] != nil }?["samples_scored"] as? Int, 0, "last-loss scores nothing")
        var lastSeen: [Int: (step: Int, loss: Float)] = [:]
        var trainedSince: Set<Int> = []
        for (k, step) in logs[1].enumerated() {
            XCTAssertEqual(step.pool.count, 24)
            XCTAssertEqual(
                step.selected, TopSelection.top(scores: step.losses, globalIndices: step.pool, count: 12).map { step.pool[$0] },
                "step \(k + 1)")
            for (i, sample) in step.pool.enumerated() {
                if let seen = lastSeen[sample], !trainedSince.contains(sample) {
                    XCTAssertEqual(step.losses[i], seen.loss, "step \(k + 1) sample \(sample): changed without being trained")
                }
                if trainedSince.contains(sample) {
                    XCTAssertTrue(step.losses[i].isFinite, "step \(k + 1) sample \(sample): trained but unrecorded")
                }
                if !(lastSeen[sample] != nil || trainedSince.contains(sample)) {
                    XCTAssertEqual(step.losses[i], .infinity, "step \(k + 1) sample \(sample)")
                }
                lastSeen[sample] = (k, step.losses[i])
                trainedSince.remove(sample)
            }
            trainedSince.formUnion(step.selected)
        }
        // Some later pool must hold both recorded and unrecorded samples, or the test above proves little.
        XCTAssertTrue(logs[1].contains { $0.losses.contains(.infinity) && $0.losses.contains { $0.isFinite } })
        let t = try XCTUnwrap(table)
        let final = try XCTUnwrap(logs[1].last)
        XCTAssertEqual(Set((0..<48).filter { t.isRecorded($0) && t.stamps[$0] == 7 }), Set(final.selected))
        let dataset = try ShardedDataset(directory: p.dataset)
        let source = SubsetSamples(
            base: MaskedDatasetSamples(
                dataset: dataset, split: .train,
                masker: MLMMasker(vocabulary: try Vocabulary(path: p.vocab), seed: 99)), count: 48)
        let (indices, epochs) = CandidateStream(sampleCount: 48, seed: 99).candidates(from: 7 * 24, count: 24)
        XCTAssertEqual(indices, final.pool)
        var weighted = 0.0, masked = 0
        for (index, epoch) in zip(indices, epochs) where final.selected.contains(index) && t.stamps[index] == 7 {
            var batch = MLMBatch(count: 1, seqLen: dataset.seqLen)
            batch.fill([(index: index, epoch: epoch)], from: source)
            weighted += Double(t.entry(index).loss) * Double(batch.maskedTokenCount)
            masked += batch.maskedTokenCount
        }
        let trainLoss = try XCTUnwrap(
            (metrics.last { $0["step"] as? Int == 8 && $0["train_loss"] != nil }?["train_loss"] as? NSNumber)?.doubleValue)
        XCTAssertEqual(weighted / Double(masked), trainLoss, accuracy: 2e-6 + 1e-6 * trainLoss)

        try assertStopAndResumeIsBitIdentical(policy: "last-loss", flags: flags, tag: "last-loss")
    }

    /// --score-positions: losses from a keyed subset of each candidate's masked positions are the same at
    /// 1 and 2 ranks (so are the selections); a limit above every sample's masked count changes nothing,
    /// a limit of 2 changes the losses (the flag takes effect), and the exact-loss fidelity check still
    /// compares against all positions.
    func testScorePositionsAreRankInvariantAndTakeEffect() throws {
        let p = try TrainingFixture.paths()
        func losses(_ extra: [String], ranks: Int, tag: String) throws -> [LoggedStep] {
            let dir = temporaryDirectory("positions-\(tag)")
            let out = try SiftProcess.run(
                TrainingFixture.trainArguments(
                    p, policy: "sift", steps: 4, checkpointDir: dir + "/ckpt",
                    extra: extra + ["--selection-log", dir + "/sel.jsonl"]), ranks: ranks, timeout: 300)
            XCTAssertEqual(out.status, 0, "\(tag): \(out.stderr)")
            return try steps(dir + "/sel.jsonl")
        }
        let all = try losses([], ranks: 1, tag: "all")
        let huge = try losses(["--score-positions", "128"], ranks: 1, tag: "huge")
        let two1 = try losses(["--score-positions", "2"], ranks: 1, tag: "two-1")
        let two2 = try losses(["--score-positions", "2"], ranks: 2, tag: "two-2")
        XCTAssertEqual(all.map(\.losses), huge.map(\.losses), "a limit above the masked count must change nothing")
        // Step 1 scores the same weights at any rank count: bit-identical losses. Later steps' weights
        // differ in the last bits (the gradient sum's order), so their losses agree to 1e-5.
        XCTAssertEqual(two1[0].losses, two2[0].losses, "1 vs 2 ranks, step 1")
        for (a, b) in zip(two1, two2) {
            for (x, y) in zip(a.losses, b.losses) { XCTAssertEqual(x, y, accuracy: 1e-5 * abs(x), "1 vs 2 ranks") }
        }
        XCTAssertEqual(two1.map(\.selected), two2.map(\.selected), "1 vs 2 ranks")
        // Same pool and weights at step 1, different positions: most losses differ.
        let differ = zip(all[0].losses, two1[0].losses).filter { $0 != $1 }.count
        XCTAssertGreaterThan(differ, all[0].losses.count / 2)
    }

    /// --reuse-scoring-forward: the scores (now with the training forward's dropout) and the selections
    /// are the same at 1, 2 and 3 ranks (samples moved by rebalancing or carrying a stale score get their
    /// prefix computed where they train); the scores differ from the dropout-free ones; and with ρ = 1 (every
    /// candidate trained, so the selection cannot differ) the weights equal those of the full training forward.
    func testReusedScoringForwardIsRankInvariantAndTrainsLikeTheFullForward() throws {
        let p = try TrainingFixture.paths()
        func run(_ extra: [String], ranks: Int, tag: String) throws -> (log: [LoggedStep], weights: [Float]) {
            let dir = temporaryDirectory("reuse-\(tag)")
            let out = try SiftProcess.run(
                TrainingFixture.trainArguments(
                    p, policy: "sift", steps: 6, checkpointDir: dir + "/ckpt",
                    extra: ["--train-subset", "48", "--stale-scores", "2", "--selection-log", dir + "/sel.jsonl"] + extra),
                ranks: ranks, timeout: 300)
            XCTAssertEqual(out.status, 0, "\(tag): \(out.stderr)")
            if ranks == 1 {
                XCTAssertTrue(
                    out.stdout.contains("training resumes from the scoring forward") == !extra.contains("--no-reuse-scoring-forward"),
                    out.stdout)
            }
            return (
                try steps(dir + "/sel.jsonl"),
                try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: dir + "/ckpt").last!.path).parameters.array
            )
        }
        func relativeDistance(_ a: [Float], _ b: [Float]) -> Double {
            let diff = zip(a, b).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +),
                norm = a.map { Double($0) * Double($0) }.reduce(0, +)
            return (diff / norm).squareRoot()
        }
        let runs = try (1...3).map { try run(["--reuse-scoring-forward"], ranks: $0, tag: "\($0)") }
        XCTAssertEqual(runs[0].log[0].losses, runs[1].log[0].losses, "1 vs 2 ranks, step 1")
        XCTAssertEqual(runs[0].log[0].losses, runs[2].log[0].losses, "1 vs 3 ranks, step 1")
        for k in 1...2 {
            XCTAssertEqual(runs[0].log.map(\.selected), runs[k].log.map(\.selected), "1 vs \(k + 1) ranks")
            XCTAssertLessThan(relativeDistance(runs[0].weights, runs[k].weights), 1e-5, "weights 1 vs \(k + 1) ranks")
        }
        let plain = try run(["--no-reuse-scoring-forward"], ranks: 1, tag: "plain")
        let differ = zip(plain.log[0].losses, runs[0].log[0].losses).filter { abs($0 - $1) > 1e-4 }.count
        XCTAssertGreaterThan(differ, plain.log[0].losses.count / 2, "the reused scores must carry dropout noise")
        let all = try run(["--select-fraction", "1", "--reuse-scoring-forward"], ranks: 2, tag: "all-reuse")
        let allPlain = try run(["--select-fraction", "1", "--no-reuse-scoring-forward"], ranks: 2, tag: "all-plain")
        XCTAssertEqual(all.log.map(\.selected), allPlain.log.map(\.selected))
        XCTAssertLessThan(relativeDistance(all.weights, allPlain.weights), 1e-5, "resumed and full training forwards differ")
        XCTAssertGreaterThan(relativeDistance(all.weights, runs[0].weights), 1e-4, "ρ = 1 must train other samples than ρ = 0.5")
    }
}
