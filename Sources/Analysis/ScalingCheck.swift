import Core
import CostModel
import Foundation
import Model
import Selection

/// `sift project --check`: predicts every run of a launch/scaling.sh measurement from its single-rank
/// runs and the measured memory bandwidth and latency (one node: the shared-memory medium), and
/// prints predicted against measured step time.
public enum ScalingCheck {
    /// Checks the model against `path` (DIR/scaling.json), printing through `say`.
    public static func run(path: String, say: (String) -> Void) throws -> CheckReport {
        let root = try JSONCoding.read(
            ScalingMeasurements.self, from: path,
            expected: "a launch/scaling.sh JSON (needs config, vocab_size, cores, memory, "
                + "latency_seconds, runs)")
        let name = root.config, vocab = root.vocabSize, cores = root.cores
        guard let model = BertConfig.named(name, vocabSize: vocab), let memory = root.memory, let latency = root.latencySeconds else {
            throw ReportError.missing(
                "\(path) is not a launch/scaling.sh JSON (needs config, vocab_size, cores, "
                    + "memory, latency_seconds, runs)")
        }
        let copy = memory.allRanks.copyBytesPerS, triad = memory.allRanks.triadBytesPerS
        let threads = root.threadsPerRank ?? 1
        let bucketBytes = Int((root.bucketMb ?? 4) * 1_048_576)
        let micro = root.microBatch ?? 32
        let medium = CommunicationMedium.sharedMemory(copyBandwidth: copy, triadBandwidth: triad, latency: latency)
        say(
            "sift project --check — \(path): BERT-\(name) (vocab \(vocab)) on this machine, \(cores) cores, \(threads) "
                + "OpenBLAS thread(s) per rank")
        say(
            "medium: shared memory, STREAM copy \(fmt(copy / 1e9, 1)) GB/s, triad \(fmt(triad / 1e9, 1)) GB/s (all "
                + "ranks at once), α = \(formatSeconds(latency)); "
                + "the cores make the copies, so nothing overlaps; ranks beyond \(cores / max(1, threads)) share cores "
                + "(compute × p·threads/cores)")
        say("compute per sample from each group's 1-rank run; predicted = compute + ring allreduce + loss allgather + 3 small allreduces\n")

        // How far the trainer's own allreduce (non-blocking 4 MiB buckets, timed by `sift bench` on this
        // config's gradient) is from the memory bound: a second prediction uses it instead of the bound,
        // to show how much of the error is the communication model and how much the compute.
        var allreduceEfficiency: Double?
        if let row = root.allreduce?.first(where: { $0.config == name }),
            let bound = row.ringBoundSeconds, let bucketed = row.bucketedSeconds, bucketed > 0
        {
            allreduceEfficiency = bound / bucketed
            say(
                "the trainer's bucketed allreduce of this gradient ran at \(pct(bound / bucketed, 0)) of the bound in `sift bench` "
                    + "(\(row.ranks) ranks); 'w/ measured allreduce' divides the predicted allreduce by that\n")
        }
        var table = TextTable(
            [
                "mode", "policy", "ranks", "measured step", "predicted", "error", "w/ measured allreduce", "error ",
                "measured compute", "predicted compute", "measured comm+wait", "predicted comm",
                "measured eff.", "predicted eff."
            ], alignments: [.left, .left] + Array(repeating: .right, count: 12))
        var out: [CheckRow] = []
        var errors: [Double] = [], calibratedErrors: [Double] = []
        for mode in ["weak", "strong"] {
            for policyKind in [SelectionPolicy.vanilla, .sift] {
                let group = root.runs.filter { $0.mode == mode && $0.policy == policyKind }.sorted { $0.ranks < $1.ranks }
                guard let one = group.first(where: { $0.ranks == 1 }) else { continue }
                let b1 = one.batchSize, times = one.times
                guard !policyKind.selects || one.selectFraction != nil else {
                    throw ReportError.missing("\(path): the 1-rank \(mode) \(policyKind.rawValue) run records no select_fraction")
                }
                let policy = ProjectedPolicy(policyKind, selectFraction: one.selectFraction ?? 1)
                let pool1 = ScalingModel.poolSize(globalBatch: b1, policy: policy)
                let scored1 = policy.selects ? pool1 : 0
                let profile = ComputeProfile(
                    forwardBackwardPerSample: (times["forward_backward"] ?? 0) / Double(b1),
                    scoringPerSample: scored1 > 0 ? (times["scoring"] ?? 0) / Double(scored1) : 0,
                    dataPerSample: (times["data"] ?? 0) / Double(b1 + scored1),
                    optimizerPerStep: times["optimizer"] ?? 0)
                let scaling = ScalingModel(config: model, bucketBytes: bucketBytes, compute: profile, medium: medium, microBatch: micro)
                let predictedOne = scaling.predict(ranks: 1, globalBatch: b1, policy: policy)
                let measuredOne = one.stepSeconds
                for run in group {
                    let p = run.ranks, b = run.batchSize, measured = run.stepSeconds, t = run.times
                    let scale = max(1, Double(p * threads) / Double(cores))
                    let s = scaling.predict(ranks: p, globalBatch: b, policy: policy, computeScale: scale)
                    let predicted = s.stepSeconds(overlap: true)
                    let error = predicted / measured - 1
                    let calibrated = allreduceEfficiency.map { predicted - s.allreduce + s.allreduce / $0 }
                    if p > 1 {
                        errors.append(abs(error))
                        if let c = calibrated { calibratedErrors.append(abs(c / measured - 1)) }
                    }
                    let measuredComm = ["exposed_allreduce", "selection", "waiting"].reduce(0.0) { $0 + (t[$1] ?? 0) }
                    let measuredCompute = ["data", "scoring", "forward_backward", "optimizer"].reduce(0.0) { $0 + (t[$1] ?? 0) }
                    let measuredEff = (Double(b) / measured) / (Double(p) * Double(b1) / measuredOne)
                    let predictedEff = s.samplesPerSecond(overlap: true) / (Double(p) * predictedOne.samplesPerSecond(overlap: true))
                    table.add([
                        mode, policyKind.rawValue, "\(p)\(scale > 1 ? " (oversubscribed)" : "")", formatSeconds(measured),
                        formatSeconds(predicted),
                        signedPct(error), formatSeconds(calibrated), signedPct(calibrated.map { $0 / measured - 1 }),
                        formatSeconds(measuredCompute), formatSeconds(s.compute),
                        formatSeconds(measuredComm), formatSeconds(s.communication(overlap: true)),
                        pct(measuredEff), pct(predictedEff)
                    ])
                    out.append(
                        CheckRow(
                            mode: mode, policy: policyKind, ranks: p, batchSize: b, measuredStepSeconds: measured,
                            predictedStepSeconds: predicted, relativeError: error, computeScale: scale,
                            predictedComputeSeconds: s.compute, predictedCommunicationSeconds: s.communication(overlap: true),
                            measuredCommunicationAndWaitingSeconds: measuredComm, measuredComputeSeconds: measuredCompute,
                            predictedStepSecondsWithMeasuredAllreduce: calibrated,
                            measuredEfficiency: measuredEff, predictedEfficiency: predictedEff))
                }
            }
        }
        guard !out.isEmpty else { throw ReportError.missing("\(path) has no runs with a 1-rank baseline") }
        say(table.render())
        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        if let m = mean(errors) {
            say(
                "\nmean |error| over the multi-rank runs: \(pct(m)); largest \(pct(errors.max()!))"
                    + (calibratedErrors.isEmpty
                        ? ""
                        : "; with the measured allreduce: mean "
                            + "\(pct(mean(calibratedErrors))), largest \(pct(calibratedErrors.max()!))")
                    + ". 1-rank rows are the inputs (their error is what the time split leaves out: selection, waiting, bookkeeping).")
        }
        say("measured compute = data + scoring + forward/backward + optimizer; measured comm+wait = exposed allreduce + selection")
        say("(loss exchange, waiting for the slowest scorer) + waiting; both from rank 0's time split. Steps are wall-clock means.")
        return CheckReport(
            check: path, config: name, vocabSize: vocab, rows: out, meanAbsRelativeErrorMultiRank: mean(errors),
            meanAbsRelativeErrorMultiRankWithMeasuredAllreduce: mean(calibratedErrors),
            allreduceFractionOfBound: allreduceEfficiency)
    }
}
