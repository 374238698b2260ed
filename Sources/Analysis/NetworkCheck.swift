import Core
import CostModel
import Foundation
import Model
import Selection

// `sift project --check-network`: the scaling model against launch/cluster_bench.sh's runs across
// emulated hosts on shaped links (DIR/network.json). The JSON types are here, beside their only reader.

public enum NetworkCheck {
    /// One measured allreduce for the fit: `bytes` in `buckets` buckets over 2 ranks in `seconds`, on a
    /// link of `rateBitsPerSecond` (nil: unshaped) with round latency `latency`.
    public struct AllreducePoint: Sendable {
        public var bytes: Double, buckets: Int, seconds: Double, rateBitsPerSecond: Double?, latency: Double
        public init(bytes: Double, buckets: Int, seconds: Double, rateBitsPerSecond: Double?, latency: Double) {
            self.bytes = bytes
            self.buckets = buckets
            self.seconds = seconds
            self.rateBitsPerSecond = rateBitsPerSecond
            self.latency = latency
        }
    }

    /// Least-squares fit of t = n·(2(p−1)α + c) + 2(p−1)/p · S/(e·R/8) at p = 2 for c (seconds per
    /// bucket) and 1/e (the link's payload share), both linear, over measured bucketed allreduces on
    /// shaped links (an unshaped veth's rate is unknown, so its points are left out). Points whose
    /// bucket counts and bytes per rate are proportional cannot separate the two: c is then 0. Nil with
    /// fewer than two shaped points or an unphysical payload share (outside (0, 1.5]); a negative c is
    /// clamped to 0 and e refitted.
    public static func fit(_ points: [AllreducePoint]) -> LinkFit? {
        // y = c·x1 + u·x2 with x1 = n, x2 = 8S/R, u = 1/e.
        let rows = points.compactMap { p in
            p.rateBitsPerSecond.map { (x1: Double(p.buckets), x2: 8 * p.bytes / $0, y: p.seconds - 2 * Double(p.buckets) * p.latency) }
        }
        guard rows.count >= 2 else { return nil }
        let s11 = rows.reduce(0) { $0 + $1.x1 * $1.x1 }, s22 = rows.reduce(0) { $0 + $1.x2 * $1.x2 }
        let s12 = rows.reduce(0) { $0 + $1.x1 * $1.x2 }
        let s1y = rows.reduce(0) { $0 + $1.x1 * $1.y }, s2y = rows.reduce(0) { $0 + $1.x2 * $1.y }
        let det = s11 * s22 - s12 * s12
        var c = 0.0, u: Double
        if abs(det) > 1e-12 * s11 * s22 {
            c = (s1y * s22 - s2y * s12) / det
            u = (s11 * s2y - s12 * s1y) / det
        } else {
            u = s2y / s22
        }
        if c < 0 {
            c = 0
            u = s2y / s22
        }
        guard u > 0, 1 / u <= 1.5 else { return nil }
        return LinkFit(perBucketSeconds: c, efficiency: 1 / u, points: rows.count)
    }

    /// The compute a row is predicted from: the same model, policy and overlap on the unshaped link.
    public static func baseline(for run: NetworkRun, in runs: [NetworkRun]) -> NetworkRun? {
        runs.first {
            $0.rateBitsPerS == nil && $0.model == run.model && $0.policy == run.policy && $0.overlap == run.overlap
                && $0.batchSize == run.batchSize && $0.ranks == run.ranks
        }
    }

    static let computePhases = ["data", "scoring", "forward_backward", "optimizer"]
    static let communicationPhases = ["exposed_allreduce", "selection", "waiting"]

    /// The compute profile of `run`'s ranks from its time split (per-rank shares as the trainer splits them).
    public static func profile(of run: NetworkRun, policy: ProjectedPolicy) -> ComputeProfile {
        let p = run.ranks, perRank = GlobalSelection.largestShare(poolSize: run.batchSize, size: p)
        let pool = ScalingModel.poolSize(globalBatch: run.batchSize, policy: policy)
        let scored = policy.selects ? GlobalSelection.largestShare(poolSize: pool, size: p) : 0
        let t = run.times
        return ComputeProfile(
            forwardBackwardPerSample: (t["forward_backward"] ?? 0) / Double(perRank),
            scoringPerSample: scored > 0 ? (t["scoring"] ?? 0) / Double(scored) : 0,
            dataPerSample: (t["data"] ?? 0) / Double(scored + perRank),
            optimizerPerStep: t["optimizer"] ?? 0)
    }

    /// Seconds of a step the time split does not cover (bookkeeping, metrics, the step's own clock reads).
    public static func untimedSeconds(_ run: NetworkRun) -> Double {
        max(0, run.stepS - run.times.values.reduce(0, +))
    }

    /// Checks the model against `path`, printing through `say`. `link` fixes parameters; those left at
    /// nil are fitted on the file's allreduce benchmark (efficiency and per-bucket cost) or measured
    /// (latency), else take `LinkParameters`' defaults.
    public static func run(
        path: String, efficiency: Double? = nil, latency: Double? = nil, perBucketSeconds: Double? = nil,
        overlapProgress: Double? = nil, tolerance: Double = 0.15, say: (String) -> Void
    ) throws -> NetworkCheckReport {
        let root = try JSONCoding.read(
            NetworkMeasurements.self, from: path,
            expected: "a launch/cluster_bench.sh JSON (needs hosts, cores, vocab_size, runs)")
        let vocab = root.vocabSize
        guard !root.runs.isEmpty else { throw ReportError.missing("\(path) has no runs") }
        for r in root.runs where BertConfig.named(r.model, vocabSize: vocab) == nil {
            throw ReportError.missing("\(path): unknown model '\(r.model)' (expected one of \(BertConfig.sizeNames))")
        }
        for r in root.runs where (r.policy?.selects ?? false) && r.selectFraction == nil {
            throw ReportError.missing("\(path): the \(r.policy!.rawValue) run at \(r.rate) (\(r.model)) records no select_fraction")
        }
        // Latency per rate: the measured 8-byte allreduce at that rate, else the unshaped one, else 50 µs.
        let bench = root.allreduce ?? []
        func measuredLatency(_ rate: String) -> Double? {
            bench.first { $0.rate == rate }?.latencySeconds ?? bench.first { $0.rateBitsPerS == nil }?.latencySeconds
        }
        let points = bench.flatMap { a in
            a.gradients.compactMap { g -> AllreducePoint? in
                guard let t = g.bucketedSeconds, let n = g.buckets, g.ranks == 2 else { return nil }
                return AllreducePoint(
                    bytes: g.bytes, buckets: n, seconds: t, rateBitsPerSecond: a.rateBitsPerS,
                    latency: latency ?? a.latencySeconds)
            }
        }
        let fitted = (efficiency == nil || perBucketSeconds == nil) ? fit(points) : nil
        var link = LinkParameters(
            efficiency: efficiency ?? fitted?.efficiency ?? LinkParameters.tcpPayloadShare, latency: latency,
            perBucketSeconds: perBucketSeconds ?? fitted?.perBucketSeconds ?? 0, overlapProgress: overlapProgress ?? 1)

        /// The model of one run's step: its unshaped baseline's compute over this run's link.
        func rowModel(_ run: NetworkRun) -> (base: NetworkRun, policy: ProjectedPolicy, model: ScalingModel)? {
            guard let base = baseline(for: run, in: root.runs) else { return nil }
            let alpha = latency ?? measuredLatency(run.rate) ?? 50e-6
            let policy = ProjectedPolicy(run.policy ?? .vanilla, selectFraction: run.selectFraction ?? 1)  // ρ checked above
            var model = ScalingModel(
                config: BertConfig.named(run.model, vocabSize: vocab)!,
                bucketBytes: Int((run.bucketMb ?? 4) * 1_048_576), compute: profile(of: base, policy: policy),
                medium: link.medium(rateBitsPerSecond: run.rateBitsPerS, latency: alpha),
                microBatch: run.microBatch ?? 32)
            model.perBucketSeconds = link.perBucketSeconds
            model.overlapProgress = link.overlapProgress
            return (base, policy, model)
        }
        /// For an overlapped run on a shaped link: the allreduce of the buckets started during backward (body),
        /// of those started after it (tail), backward's seconds and the measured exposed allreduce.
        func overlapTerms(_ run: NetworkRun) -> (body: Double, tail: Double, backward: Double, exposed: Double)? {
            guard run.overlap ?? true, run.rateBitsPerS != nil, let exposed = run.times["exposed_allreduce"],
                let (base, _, model) = rowModel(run)
            else { return nil }
            let split = ScalingModel.bucketSplit(
                config: BertConfig.named(run.model, vocabSize: vocab)!,
                bucketBytes: Int((run.bucketMb ?? 4) * 1_048_576))
            let body = model.bucketedAllreduceSeconds(
                bytes: split.bytes - split.tailBytes, ranks: run.ranks,
                buckets: split.buckets - split.tailBuckets)
            let tail = model.bucketedAllreduceSeconds(bytes: split.tailBytes, ranks: run.ranks, buckets: split.tailBuckets)
            return (body, tail, model.compute.backwardFraction * (base.times["forward_backward"] ?? 0), exposed)
        }
        // Over TCP a started bucket moves only while MPI is called (between a layer's products), so only part of
        // backward carries it: without --overlap-progress that share is fitted, by least squares on the exposed
        // allreduce of every overlapped run on a shaped link (exposed = max(0, body − f·backward) + tail).
        let overlapped = root.runs.compactMap(overlapTerms)
        let progressFitted = overlapProgress == nil && !overlapped.isEmpty
        if progressFitted {
            func residual(_ f: Double) -> Double {
                overlapped.reduce(0) { r, t in
                    let e = max(0, t.body - f * t.backward) + t.tail - t.exposed
                    return r + e * e
                }
            }
            link.overlapProgress = (0...200).map { Double($0) / 200 }.min { residual($0) < residual($1) }!
        }

        say(
            "sift project --check-network — \(path): \(root.hosts) hosts × 1 rank on \(root.cores) cores"
                + (root.cpu.map { " (\($0))" } ?? "") + (root.date.map { ", \($0)" } ?? "") + ", vocab \(vocab)")
        say(
            "link: payload share \(fmt(link.efficiency, 3)) of the tc rate"
                + (efficiency != nil ? " (given)" : fitted != nil ? " (fitted)" : " (TCP at MTU 1500, 1448/1514)")
                + ", \(formatSeconds(link.perBucketSeconds)) per bucket"
                + (perBucketSeconds != nil ? " (given)" : fitted != nil ? " (fitted)" : " (none)")
                + ", α " + (latency.map { formatSeconds($0) + " (given)" } ?? "= the measured 8-byte allreduce at each rate")
                + ", overlap progress \(fmt(link.overlapProgress, 2))"
                + (overlapProgress != nil
                    ? " (given)" : progressFitted ? " (fitted on \(overlapped.count) overlapped runs' exposed allreduce)" : ""))
        if let f = fitted {
            say(
                "fit: t_bucketed = n·(2α + c) + S/(e·R/8) over \(f.points) measured bucketed allreduces (`sift bench --only "
                    + "allreduce` across the hosts at each rate)")
        } else if efficiency == nil || perBucketSeconds == nil {
            say("fit: not possible (needs bucketed allreduces at two or more shaped rates or sizes in the file); defaults used")
        }
        say(
            "compute per sample from the same model, policy and overlap on the unshaped link; predicted = that compute + "
                + "its untimed rest + exposed allreduce + loss allgather + 3 small allreduces over the link\n")

        var table = TextTable(
            [
                "rate", "model", "policy", "overlap", "measured step", "predicted", "error", "",
                "compute", "measured comm", "predicted comm", "allreduce", "implied progress", "load"
            ],
            alignments: Array(repeating: .left, count: 4) + Array(repeating: .right, count: 10))
        var rows: [NetworkCheckRow] = []
        let ordered = root.runs.sorted {
            ($0.rateBitsPerS ?? .infinity, $0.model, $0.policy?.rawValue ?? "", $0.overlap == false ? 1 : 0)
                < ($1.rateBitsPerS ?? .infinity, $1.model, $1.policy?.rawValue ?? "", $1.overlap == false ? 1 : 0)
        }
        var skipped: [String] = []
        for run in ordered {
            guard let (base, policy, model) = rowModel(run) else {
                skipped.append("\(run.rate) \(run.model) \(run.policy?.rawValue ?? "?")")
                continue
            }
            let overlap = run.overlap ?? true
            let s = model.predict(ranks: run.ranks, globalBatch: run.batchSize, policy: policy)
            let untimed = untimedSeconds(base)
            let predicted = s.stepSeconds(overlap: overlap) + untimed
            let error = predicted / run.stepS - 1
            let measuredComm = communicationPhases.reduce(0.0) { $0 + (run.times[$1] ?? 0) }
            let measuredCompute = computePhases.reduce(0.0) { $0 + (run.times[$1] ?? 0) }
            // The overlap progress this row implies: exposed = max(0, body − f·backward) + tail, solved for f.
            var implied: Double?
            if let t = overlapTerms(run), t.backward > 0, t.exposed > t.tail { implied = (t.body - (t.exposed - t.tail)) / t.backward }
            let over = abs(error) > tolerance
            table.add([
                run.rate, run.model, (run.policy ?? .vanilla).rawValue, overlap ? "on" : "off", formatSeconds(run.stepS),
                formatSeconds(predicted), signedPct(error), over ? "OVER" : "", formatSeconds(measuredCompute),
                formatSeconds(measuredComm), formatSeconds(s.communication(overlap: overlap)),
                formatSeconds(s.allreduce), fmt(implied, 2), fmt(run.loadAverageBefore, 1)
            ])
            rows.append(
                NetworkCheckRow(
                    rate: run.rate, rateBitsPerS: run.rateBitsPerS, model: run.model, policy: run.policy ?? .vanilla,
                    overlap: overlap, measuredStepSeconds: run.stepS, predictedStepSeconds: predicted,
                    relativeError: error, overTolerance: over, measuredComputeSeconds: measuredCompute,
                    measuredCommunicationSeconds: measuredComm,
                    predictedCommunicationSeconds: s.communication(overlap: overlap),
                    predictedAllreduceSeconds: s.allreduce, untimedSeconds: untimed,
                    impliedOverlapProgress: implied, loadAverageBefore: run.loadAverageBefore))
        }
        guard !rows.isEmpty else {
            throw ReportError.missing("\(path) has no runs with an unshaped ('unlimited') run of the same model, policy and overlap")
        }
        say(table.render())
        if !skipped.isEmpty { say("no unshaped baseline, not checked: \(skipped.joined(separator: ", "))") }
        let shaped = rows.filter { $0.rateBitsPerS != nil }
        let over = shaped.filter(\.overTolerance)
        say(
            "\n\(over.count) of \(shaped.count) shaped-link rows off by more than \(pct(tolerance, 0))"
                + (shaped.isEmpty ? "" : "; mean |error| \(pct(shaped.map { abs($0.relativeError) }.reduce(0, +) / Double(shaped.count)))")
                + ". Unshaped rows are the compute inputs: their error is the communication the model gives a memory-speed link.")
        say(
            "measured comm = exposed allreduce + selection + waiting (rank 0); implied progress: the overlap progress that "
                + "would make the row's exposed allreduce match (the fitted one is their least-squares compromise).")
        // The bench's own ranks (one busy process per host, all on this machine) hold the load average near the
        // core count between its runs; more than that means something else ran.
        if let load = root.runs.compactMap(\.loadAverageBefore).max(), load > Double(root.cores) + 0.5 {
            say(
                "warning: load average up to \(fmt(load, 1)) on \(root.cores) cores during these runs (the bench's own ranks "
                    + "account for about \(root.cores)): timings are not reliable")
        }
        let versus = ddpComparison(root, say: say)
        return NetworkCheckReport(
            check: path, linkEfficiency: link.efficiency, perBucketSeconds: link.perBucketSeconds,
            overlapProgress: link.overlapProgress, fitted: fitted != nil, tolerance: tolerance,
            rows: rows, ddp: versus)
    }

    /// sift (vanilla, overlap on) against DDP at every rate and model that has both.
    static func ddpComparison(_ root: NetworkMeasurements, say: (String) -> Void) -> [NetworkDDPRow] {
        guard let ddp = root.ddp, !ddp.isEmpty else { return [] }
        var table = TextTable(
            ["rate", "model", "sift step", "DDP step", "DDP/sift", "DDP bf16 step", "DDP bf16/sift"],
            alignments: [.left, .left] + Array(repeating: .right, count: 5))
        var out: [NetworkDDPRow] = []
        let keys = Set(ddp.map { "\($0.rate)|\($0.model)" })
        let sorted = root.runs.filter { $0.policy?.selects == false && $0.overlap != false && keys.contains("\($0.rate)|\($0.model)") }
            .sorted { ($0.rateBitsPerS ?? .infinity, $0.model) < ($1.rateBitsPerS ?? .infinity, $1.model) }
        for s in sorted {
            let plain = ddp.first { $0.rate == s.rate && $0.model == s.model && $0.engine == "ddp" }
            let bf16 = ddp.first { $0.rate == s.rate && $0.model == s.model && $0.engine == "ddp_bf16" }
            table.add([
                s.rate, s.model, formatSeconds(s.stepS), formatSeconds(plain?.stepS), fmt(plain.map { $0.stepS / s.stepS }, 2),
                formatSeconds(bf16?.stepS), fmt(bf16.map { $0.stepS / s.stepS }, 2)
            ])
            out.append(
                NetworkDDPRow(
                    rate: s.rate, model: s.model, siftStepSeconds: s.stepS, ddpStepSeconds: plain?.stepS,
                    ddpBf16StepSeconds: bf16?.stepS))
        }
        guard !out.isEmpty else { return [] }
        say(
            "\nsift (vanilla, overlap) against PyTorch DDP (gloo, same hosts, model, batch and 4 MiB buckets); "
                + "DDP/sift > 1: sift's step is faster")
        say(table.render())
        return out
    }
}
