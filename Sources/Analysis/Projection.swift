import Core
import CostModel
import Foundation
import Model
import Selection

/// `sift project`'s projection: step time, throughput and parallel efficiency of vanilla and SIFT
/// steps at many nodes from one node's compute times and an interconnect (`ScalingModel`).
public struct Projection {
    public var config: String
    public var vocabSize: Int
    /// Samples backpropagated per node per step (weak scaling), unless `globalBatch` is set.
    public var batchSize: Int
    /// Samples backpropagated per step over all nodes (strong scaling).
    public var globalBatch: Int?
    public var selectFraction: Double
    public var exitLayer: Int
    public var bucketBytes: Int
    public var microBatch: Int
    public var interconnect: Interconnect
    public var nodeCounts: [Int]

    public init(
        config: String, vocabSize: Int, batchSize: Int, globalBatch: Int?, selectFraction: Double, exitLayer: Int,
        bucketBytes: Int, microBatch: Int, interconnect: Interconnect, nodeCounts: [Int]
    ) {
        self.config = config
        self.vocabSize = vocabSize
        self.batchSize = batchSize
        self.globalBatch = globalBatch
        self.selectFraction = selectFraction
        self.exitLayer = exitLayer
        self.bucketBytes = bucketBytes
        self.microBatch = microBatch
        self.interconnect = interconnect
        self.nodeCounts = nodeCounts
    }

    /// Prints the projection's tables through `say` and returns them as a report.
    public func run(profile: ComputeProfile, source: String, say: (String) -> Void) -> ProjectionReport {
        let model = BertConfig.named(config, vocabSize: vocabSize)!
        let net = interconnect
        let scaling = ScalingModel(config: model, bucketBytes: bucketBytes, compute: profile, medium: net.medium, microBatch: microBatch)
        say(
            "sift project — BERT-\(config) (vocab \(vocabSize)): gradient \(fmt(scaling.gradientBytes / 1e6, 1)) MB in "
                + "\(scaling.buckets) buckets of \(fmt(Double(bucketBytes) / 1_048_576, 1)) MiB; "
                + "\(fmt(scaling.tailBytes / 1e6, 1)) MB in \(scaling.tailBuckets) (the embeddings) final only when backward ends")
        say(
            "interconnect \(net.name): \(net.summary), β = \(fmt(net.bandwidthGbps, 1)) Gb/s, α = "
                + "\(fmt(net.latencyMicroseconds, 2)) µs (nominal figures)")
        say(
            "compute per node (\(source)): forward+backward \(formatSeconds(profile.forwardBackwardPerSample))/sample, "
                + "scoring at exit \(exitLayer) \(formatSeconds(profile.scoringPerSample))/candidate, optimizer "
                + "\(formatSeconds(profile.optimizerPerStep))/step, "
                + "data \(formatSeconds(profile.dataPerSample))/sample")
        if let g = globalBatch {
            say("strong scaling: \(g) samples backpropagated per step over all nodes; efficiency = speedup / nodes")
        } else {
            say(
                "weak scaling: \(batchSize) samples backpropagated per node per step, a global batch of \(batchSize) × nodes "
                    + "(micro-batches of \(microBatch) accumulate beyond it); efficiency = throughput_p / (p · throughput_1); "
                    + "time/sample = step time / global batch")
        }
        var out: [ProjectionRow] = []
        let counts = [1] + nodeCounts.filter { $0 != 1 }
        for policy in [ProjectedPolicy.vanilla, .sift(selectFraction: selectFraction)] {
            let title = policy.selects ? "SIFT (exit layer \(exitLayer), ρ = \(selectFraction))" : "vanilla"
            say("\n\(title)")
            var table = TextTable([
                "nodes", "global b", "compute", "allreduce", "exposed w/ overlap", "loss exchange + sync",
                "step w/ overlap", "step w/o overlap", "samples/s w/ overlap", "samples/s w/o",
                "time/sample w/ overlap", "efficiency w/ overlap", "efficiency w/o"
            ])
            let baseline = globalBatch ?? batchSize
            for p in counts {
                let b = globalBatch ?? batchSize * p
                guard b >= p else {
                    table.add(["\(p)", "\(b)"] + Array(repeating: "—", count: 11))
                    continue
                }
                let s = scaling.predict(ranks: p, globalBatch: b, policy: policy, exchange: .auto)
                let eOn = scaling.efficiency(
                    ranks: p, globalBatch: b, baselineBatch: baseline, policy: policy, overlap: true, exchange: .auto)
                let eOff = scaling.efficiency(
                    ranks: p, globalBatch: b, baselineBatch: baseline, policy: policy, overlap: false, exchange: .auto)
                table.add([
                    "\(p)", "\(b)", formatSeconds(s.compute), formatSeconds(s.allreduce), formatSeconds(s.exposedAllreduceWithOverlap),
                    formatSeconds(s.selectionExchange + s.synchronisation), formatSeconds(s.stepSeconds(overlap: true)),
                    formatSeconds(s.stepSeconds(overlap: false)), rate(s.samplesPerSecond(overlap: true)),
                    rate(s.samplesPerSecond(overlap: false)), formatSeconds(s.stepSeconds(overlap: true) / Double(b)),
                    pct(eOn), pct(eOff)
                ])
                out.append(
                    ProjectionRow(
                        policy: policy.policy, nodes: p, globalBatch: b,
                        computeSeconds: s.compute, scoringSeconds: s.scoring, allreduceSeconds: s.allreduce,
                        exposedAllreduceWithOverlapSeconds: s.exposedAllreduceWithOverlap,
                        selectionExchangeSeconds: s.selectionExchange, synchronisationSeconds: s.synchronisation,
                        stepSecondsOverlap: s.stepSeconds(overlap: true), stepSecondsNoOverlap: s.stepSeconds(overlap: false),
                        samplesPerSecondOverlap: s.samplesPerSecond(overlap: true),
                        samplesPerSecondNoOverlap: s.samplesPerSecond(overlap: false),
                        secondsPerSampleOverlap: s.stepSeconds(overlap: true) / Double(b),
                        secondsPerSampleNoOverlap: s.stepSeconds(overlap: false) / Double(b),
                        efficiencyOverlap: eOn, efficiencyNoOverlap: eOff))
            }
            say(table.render())
        }
        let exchanges = exchangeTable(counts, medium: net.medium, say: say)
        say(
            """

            Assumptions: one rank per node at the measured rate; ring allreduce per bucket (its 2(p−1)·α per bucket \
            dominates at many nodes: larger --bucket-mb reduces it); ⌈log₂ p⌉ rounds for the loss allgather and the \
            small allreduces; overlap hides the non-embedding buckets behind the last micro-batch's backward (2/3 of \
            its forward+backward) if the link keeps up; no stragglers, jitter or congestion; nominal link rates.
            """)
        return ProjectionReport(
            config: config, vocabSize: vocabSize, gradientBytes: scaling.gradientBytes,
            tailBytes: scaling.tailBytes, buckets: scaling.buckets, tailBuckets: scaling.tailBuckets,
            interconnect: InterconnectReport(name: net.name, bandwidthGbps: net.bandwidthGbps, latencyUs: net.latencyMicroseconds),
            compute: ComputeReport(
                forwardBackwardSecondsPerSample: profile.forwardBackwardPerSample,
                scoringSecondsPerSample: profile.scoringPerSample,
                optimizerSecondsPerStep: profile.optimizerPerStep,
                dataSecondsPerSample: profile.dataPerSample, source: source),
            scaling: globalBatch == nil ? "weak" : "strong", batch: globalBatch ?? batchSize,
            selectFraction: selectFraction, exitLayer: exitLayer, rows: out, exchanges: exchanges)
    }

    /// Prints and returns SIFT's two selection exchanges at each node count (`auto` in the tables above
    /// takes the cheaper): the allgather of 4 bytes per candidate against the threshold exchange's 8 small
    /// allreduces and 1-bit mask, and the pool from which the threshold exchange is cheaper.
    func exchangeTable(_ counts: [Int], medium: CommunicationMedium, say: (String) -> Void) -> [ExchangeRow] {
        say(
            "\nselection exchange (SIFT): allgather of the pool's losses (4 bytes per candidate) against the threshold "
                + "exchange (\(ThresholdSelection.keyRounds) small allreduces and a 1-bit-per-candidate mask); sift train's "
                + "--selection-exchange auto takes the cheaper, judged on \(Interconnect.reference.name)")
        var table = TextTable(["nodes", "pool", "allgather", "threshold", "cheaper", "threshold cheaper from pool"])
        var rows: [ExchangeRow] = []
        for p in counts {
            let pool = ScalingModel.poolSize(globalBatch: globalBatch ?? batchSize * p, policy: .sift(selectFraction: selectFraction))
            guard pool >= p else { continue }
            let a = ScalingModel.selectionExchangeSeconds(.allgather, pool: pool, ranks: p, medium: medium)
            let t = ScalingModel.selectionExchangeSeconds(.threshold, pool: pool, ranks: p, medium: medium)
            let from = ScalingModel.thresholdCrossoverPool(ranks: p, medium: medium)
            let cheaper = ScalingModel.cheaperSelectionExchange(pool: pool, ranks: p, medium: medium)
            table.add([
                "\(p)", "\(pool)", formatSeconds(a), formatSeconds(t), p == 1 ? "—" : cheaper.rawValue, from.map { "\($0)" } ?? "never"
            ])
            rows.append(
                ExchangeRow(
                    nodes: p, pool: pool, allgatherSeconds: a, thresholdSeconds: t, cheaper: cheaper,
                    thresholdCheaperFromPool: from))
        }
        say(table.render())
        return rows
    }

    /// Samples per second: one decimal below 100, none above.
    func rate(_ x: Double) -> String { fmt(x, x < 100 ? 1 : 0) }
}
