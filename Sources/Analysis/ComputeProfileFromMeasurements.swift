import Bench
import Core
import CostModel
import Foundation
import Model
import Selection
import Training

/// Where `sift project` gets one node's compute times: measurements of `sift bench` or
/// launch/scaling.sh, or the FLOP count at a rate.
extension ComputeProfile {
    /// From `sift bench --json` output: forward+backward and optimizer from the config's vanilla row,
    /// scoring from its SIFT row at `exitLayer`. The bench ran `ranks` ranks on this machine at once, so
    /// one node (this machine) does `ranks` samples in one rank's per-sample time.
    /// - Returns: the profile and a sentence saying where it came from.
    public static func fromBench(
        _ path: String, config: String, vocabSize: Int, exitLayer: Int,
        dataPerSample: Double
    ) throws -> (ComputeProfile, String) {
        let report = try JSONCoding.read(BenchReport.self, from: path, expected: "a `sift bench --json` file")
        guard let steps = report.steps else {
            throw ReportError.missing("\(path) has no step measurements (run `sift bench` with the step section)")
        }
        let mine = steps.filter { $0.config == config }
        guard let vanilla = mine.first(where: { $0.step == "vanilla" }) else {
            throw ReportError.missing("\(path) has no vanilla step of \(config) (run `sift bench --configs \(config)`)")
        }
        if vanilla.vocabSize != vocabSize {
            throw ReportError.missing(
                "\(path) measured \(config) with vocab \(vanilla.vocabSize); pass "
                    + "--vocab-size \(vanilla.vocabSize)")
        }
        // The scoring path `sift train` takes by default, else the first measured at this exit layer.
        let atExit = mine.filter { $0.step == "sift" && $0.exitLayer == exitLayer }
        guard let sift = atExit.first(where: { ($0.scorePositions ?? 0) == TrainingOptions().scorePositions }) ?? atExit.first,
            let pool = sift.pool, let sc = sift.scoringSeconds
        else {
            throw ReportError.missing(
                "\(path) has no SIFT step of \(config) at exit layer \(exitLayer) (run "
                    + "`sift bench --exit-layers \(exitLayer)`)")
        }
        let ranks = Double(vanilla.ranks), b = vanilla.batch
        return (
            ComputeProfile(
                forwardBackwardPerSample: vanilla.forwardBackwardSeconds / Double(b) / ranks,
                scoringPerSample: sc / Double(pool) / ranks,
                dataPerSample: dataPerSample, optimizerPerStep: vanilla.optimizerSeconds),
            "\(path): \(Int(ranks)) rank(s) × \(vanilla.threadsPerRank) thread(s) at once, b = \(b); a node = this "
                + "machine, so per-sample times ÷ \(Int(ranks))"
        )
    }

    /// From launch/scaling.sh's JSON: per-sample times from its weak-scaling 1-rank runs (one core,
    /// one OpenBLAS thread). A node is this machine, so per-sample times are divided by its cores, as
    /// if every core ran a rank at the measured rate.
    public static func fromScaling(_ path: String, config: String, vocabSize: Int, exitLayer: Int) throws -> (ComputeProfile, String) {
        let root = try JSONCoding.read(
            ScalingMeasurements.self, from: path,
            expected: "a launch/scaling.sh JSON (needs config, vocab_size, cores and runs)")
        guard root.config == config.lowercased(), root.vocabSize == vocabSize else {
            throw ReportError.missing(
                "\(path) measured \(root.config) with vocab \(root.vocabSize); pass "
                    + "--config \(root.config) --vocab-size \(root.vocabSize)")
        }
        func oneRank(_ policy: SelectionPolicy) -> ScalingRun? {
            root.runs.first { $0.mode == "weak" && $0.policy == policy && $0.ranks == 1 }
        }
        guard let v = oneRank(.vanilla), let s = oneRank(.sift) else {
            throw ReportError.missing("\(path) has no 1-rank weak-scaling runs of vanilla and sift")
        }
        guard exitLayer == 1 else { throw ReportError.missing("\(path) measured SIFT at exit layer 1; pass --exit-layer 1") }
        let threads = root.threadsPerRank ?? 1
        let perNode = Double(max(1, root.cores / max(1, threads)))
        // The pool the SIFT run scored: recorded, else b/ρ from the ρ it ran with.
        guard
            let pool = s.poolSize
                ?? s.selectFraction.map({ ScalingModel.poolSize(globalBatch: s.batchSize, policy: .sift(selectFraction: $0)) })
        else { throw ReportError.missing("\(path): the 1-rank sift run records neither pool_size nor select_fraction") }
        return (
            ComputeProfile(
                forwardBackwardPerSample: (v.times["forward_backward"] ?? 0) / Double(v.batchSize) / perNode,
                scoringPerSample: (s.times["scoring"] ?? 0) / Double(pool) / perNode,
                dataPerSample: (v.times["data"] ?? 0) / Double(v.batchSize) / perNode,
                optimizerPerStep: v.times["optimizer"] ?? 0),
            "\(path): 1-rank runs on one core; a node = this machine's \(Int(perNode)) cores, so per-sample times ÷ \(Int(perNode))"
        )
    }

    /// The exact FLOP count of `model` at `gflops` GFLOP/s.
    public static func fromFLOPs(
        _ model: BertConfig, gflops: Double, seqLen: Int, exitLayer: Int,
        dataPerSample: Double, optimizerPerStep: Double
    ) -> (ComputeProfile, String) {
        let rate = gflops * 1e9
        let masked = max(1, Int((Double(seqLen) * 0.15).rounded()))
        let fb = BertForMaskedLM.trainingFLOPs(config: model, batch: 1, seqLen: seqLen, maskedTokens: masked) / rate
        let sc = BertForMaskedLM.scoringFLOPs(config: model, exitLayer: exitLayer, batch: 1, seqLen: seqLen, maskedTokens: masked) / rate
        return (
            ComputeProfile(
                forwardBackwardPerSample: fb, scoringPerSample: sc, dataPerSample: dataPerSample,
                optimizerPerStep: optimizerPerStep),
            "exact FLOP count at \(fmt(gflops, 0)) GFLOP/s, matrix products only"
        )
    }
}
