import Foundation
import Model
import Selection

/// A latency–bandwidth model of a data-parallel sift step, for projecting past the ranks we can run.
///
/// Per step and rank: compute = data + scoring + forward/backward + optimizer from measured
/// per-sample times (the busiest rank's share); the gradient allreduce is a ring per bucket; SIFT adds
/// an allgather of the pool's losses; three small allreduces synchronise. Pure arithmetic, no MPI.
///
/// Assumptions, stated so they can be checked:
/// - every rank computes at the measured rate whatever p is (`computeScale` models oversubscribed cores);
/// - ring allreduce per bucket (each of `buckets` rings pays 2(p−1) latencies; the bytes add up to S);
/// - small collectives (loss allgather, 8-byte allreduces) use ⌈log₂ p⌉ rounds (recursive doubling / Bruck);
/// - with overlap, buckets that become final during backward are reduced while backward runs, the
///   network keeping up with backward at best: exposed = max(0, ring(S − S_tail) − t_backward) + ring(S_tail),
///   where S_tail are the buckets final only when backward ends (those holding the embeddings, whose
///   word-embedding gradient is also the tied decoder's) and t_backward is the last micro-batch's backward;
/// - no load imbalance, jitter or contention beyond the medium's own (the trainer rebalances the
///   selection, so ranks differ by at most one sample).
public struct ScalingModel: Sendable {
    /// Bytes of the gradient summed every step (parameters × 4).
    public var gradientBytes: Double
    /// Bytes in buckets that become final only when backward ends, so never overlap it.
    public var tailBytes: Double
    /// Number of buckets the gradient is reduced in, and how many of them are in the tail.
    public var buckets: Int
    public var tailBuckets: Int
    public var compute: ComputeProfile
    public var medium: CommunicationMedium
    /// Samples per forward/backward call: the allreduce starts only in the last micro-batch's backward.
    public var microBatch: Int
    /// Small blocking allreduces per step (masked-token count, loss sum, the slowest clock for stopping).
    public var smallCollectivesPerStep: Int = 3
    /// Seconds each gradient bucket costs beyond its ring's latencies (a TCP message's set-up, the
    /// non-blocking collective's schedule): 0 in the pure latency–bandwidth model; fitted on measured
    /// allreduces by `sift project --check-network` (`NetworkCheck.fit`).
    public var perBucketSeconds: Double = 0
    /// Share of backward during which the buckets started in it make progress (1: the link runs while
    /// backward runs; 0: overlap hides nothing, as when the transport moves bytes only inside MPI calls
    /// that backward seldom makes).
    public var overlapProgress: Double = 1

    /// A model from raw sizes; `tailBytes ≤ gradientBytes`, `tailBuckets ≤ buckets`.
    public init(
        gradientBytes: Double, tailBytes: Double, buckets: Int, tailBuckets: Int,
        compute: ComputeProfile, medium: CommunicationMedium, microBatch: Int = 32
    ) {
        precondition(gradientBytes >= 0 && tailBytes >= 0 && tailBytes <= gradientBytes, "bad byte counts")
        precondition(buckets >= 1 && tailBuckets >= 0 && tailBuckets <= buckets, "bad bucket counts")
        self.gradientBytes = gradientBytes
        self.tailBytes = tailBytes
        self.buckets = buckets
        self.tailBuckets = tailBuckets
        self.compute = compute
        self.medium = medium
        self.microBatch = max(1, microBatch)
    }

    /// A model of `config`'s gradient cut into buckets exactly as the trainer cuts it.
    public init(
        config: BertConfig, bucketBytes: Int, compute: ComputeProfile, medium: CommunicationMedium,
        microBatch: Int = 32
    ) {
        let split = ScalingModel.bucketSplit(config: config, bucketBytes: bucketBytes)
        self.init(
            gradientBytes: split.bytes, tailBytes: split.tailBytes, buckets: split.buckets,
            tailBuckets: split.tailBuckets, compute: compute, medium: medium, microBatch: microBatch)
    }

    /// The trainer's bucket plan for `config` (`GradientBucketPlan`): total bytes and buckets, and
    /// the bytes and buckets that reach below the first encoder layer (the embeddings), which start
    /// only after backward's last report.
    public static func bucketSplit(config: BertConfig, bucketBytes: Int)
        -> (bytes: Double, buckets: Int, tailBytes: Double, tailBuckets: Int)
    {
        let layout = ParameterLayout(config: config)
        let plan = GradientBucketPlan.ranges(count: layout.totalCount, bucketElements: max(1, bucketBytes / 4))
        let firstLayer = layout.layers.first?.start ?? layout.head.start
        let tail = plan.filter { $0.lowerBound < firstLayer }
        return (Double(layout.totalCount * 4), plan.count, Double(tail.reduce(0) { $0 + $1.count } * 4), tail.count)
    }

    // MARK: Collectives

    /// Seconds of a ring allreduce of `bytes` in `buckets` separate rings over `ranks` ranks.
    ///
    /// Network: 2(p−1)·α per ring, and each rank sends (and receives) 2(p−1)/p·S over its own link:
    /// t = 2(p−1)·α·buckets + 2(p−1)/p · S/β.
    ///
    /// Shared memory: the same ring, but every byte moves through the one memory system. In each of
    /// the p−1 reduce-scatter steps every rank reads a peer's chunk of S/p and its own and writes the
    /// sum (STREAM triad's 2 reads + 1 write): 3S bytes of traffic over the node per step. In each of
    /// the p−1 allgather steps every rank copies a chunk (read + write): 2S per step. So
    /// t = 2(p−1)·α·buckets + (p−1)·S·(3/B_triad + 2/B_copy). This is a bound: it assumes single-copy
    /// transfers (CMA), buffers far larger than the caches, and memory bandwidth as the only limit.
    /// Copy-in/copy-out through a bounce buffer would double the copy traffic; gradients that fit in
    /// the last-level cache can beat it.
    public static func ringAllreduceSeconds(bytes: Double, ranks p: Int, buckets: Int, medium: CommunicationMedium) -> Double {
        guard p > 1, bytes > 0 else { return 0 }
        let steps = Double(p - 1)
        let latency = 2 * steps * Double(max(1, buckets)) * medium.latency
        switch medium {
        case .network(let bandwidth, _):
            return latency + 2 * steps / Double(p) * bytes / bandwidth
        case .sharedMemory(let copy, let triad, _):
            return latency + steps * bytes * (3 / triad + 2 / copy)
        }
    }

    /// Seconds of the gradient allreduce of `bytes` in `buckets` buckets: the ring per bucket plus
    /// `perBucketSeconds` for each bucket (none when nothing is reduced).
    public func bucketedAllreduceSeconds(bytes: Double, ranks p: Int, buckets: Int) -> Double {
        guard p > 1, bytes > 0 else { return 0 }
        return ScalingModel.ringAllreduceSeconds(bytes: bytes, ranks: p, buckets: buckets, medium: medium)
            + Double(max(1, buckets)) * perBucketSeconds
    }

    /// Seconds of an allgather in which the ranks together contribute `totalBytes` (everyone ends with
    /// all of it): ⌈log₂ p⌉ latencies (Bruck) and (p−1)/p·n received per rank; on shared memory every
    /// rank copies its missing (p−1)/p·n, 2(p−1)·n bytes of traffic over the node.
    public static func allgatherSeconds(totalBytes: Double, ranks p: Int, medium: CommunicationMedium) -> Double {
        guard p > 1 else { return 0 }
        let rounds = ceil(log2(Double(p)))
        switch medium {
        case .network(let bandwidth, let latency):
            return rounds * latency + Double(p - 1) / Double(p) * totalBytes / bandwidth
        case .sharedMemory(let copy, _, let latency):
            return rounds * latency + 2 * Double(p - 1) * totalBytes / copy
        }
    }

    /// Seconds of one allreduce of a few bytes: ⌈log₂ p⌉ latencies (recursive doubling).
    public static func smallAllreduceSeconds(ranks p: Int, medium: CommunicationMedium) -> Double {
        p > 1 ? ceil(log2(Double(p))) * medium.latency : 0
    }

    // MARK: Selection exchange

    /// Seconds of one `top` selection over a pool of `pool` candidates at `ranks` ranks by `exchange`
    /// (`auto`: the cheaper of the two), from the collectives it performs (`SelectionExchange.collectives`):
    /// allgather: one allgather of `bytesPerCandidate`·pool bytes, ⌈log₂ p⌉·α + (p−1)/p·4·pool/β on a network;
    /// threshold: 8 small allreduces (8·⌈log₂ p⌉·α) and one allgather of the ≈ pool/8-byte bitmask.
    public static func selectionExchangeSeconds(
        _ exchange: SelectionExchange, pool: Int, ranks p: Int,
        bytesPerCandidate: Int = 4, medium: CommunicationMedium
    ) -> Double {
        if exchange == .auto {
            return min(
                selectionExchangeSeconds(.allgather, pool: pool, ranks: p, bytesPerCandidate: bytesPerCandidate, medium: medium),
                selectionExchangeSeconds(.threshold, pool: pool, ranks: p, bytesPerCandidate: bytesPerCandidate, medium: medium))
        }
        let c = SelectionExchange.collectives(exchange, pool: pool, ranks: p, bytesPerCandidate: bytesPerCandidate)
        return Double(c.smallAllreduces) * smallAllreduceSeconds(ranks: p, medium: medium)
            + allgatherSeconds(totalBytes: c.allgatherBytes, ranks: p, medium: medium)
    }

    /// The exchange the model predicts cheaper (allgather when they cost the same): what `auto` becomes.
    public static func cheaperSelectionExchange(
        pool: Int, ranks p: Int, bytesPerCandidate: Int = 4,
        medium: CommunicationMedium = Interconnect.reference.medium
    ) -> SelectionExchange {
        let threshold = selectionExchangeSeconds(.threshold, pool: pool, ranks: p, bytesPerCandidate: bytesPerCandidate, medium: medium)
        let allgather = selectionExchangeSeconds(.allgather, pool: pool, ranks: p, bytesPerCandidate: bytesPerCandidate, medium: medium)
        return threshold < allgather ? .threshold : .allgather
    }

    /// The smallest pool (≥ `ranks`, ≤ `limit`) from which the threshold exchange is cheaper at `ranks`
    /// ranks, or nil if it never is up to `limit`. The allgather's cost less the threshold's grows with the
    /// pool (4 bytes per candidate against 1 bit), so a bisection finds it.
    public static func thresholdCrossoverPool(
        ranks p: Int, bytesPerCandidate: Int = 4, medium: CommunicationMedium,
        limit: Int = 1 << 40
    ) -> Int? {
        func cheaper(_ pool: Int) -> Bool {
            cheaperSelectionExchange(pool: pool, ranks: p, bytesPerCandidate: bytesPerCandidate, medium: medium) == .threshold
        }
        var lo = max(1, p), hi = limit
        guard lo <= hi, cheaper(hi) else { return nil }
        if cheaper(lo) { return lo }
        while hi - lo > 1 {  // cheaper(hi) and not cheaper(lo)
            let mid = lo + (hi - lo) / 2
            if cheaper(mid) { hi = mid } else { lo = mid }
        }
        return hi
    }

    // MARK: Steps

    /// Candidates per step for `globalBatch` backpropagated samples: b/ρ rounded as the trainer does.
    public static func poolSize(globalBatch: Int, policy: ProjectedPolicy) -> Int {
        switch policy {
        case .vanilla: return globalBatch
        case .sift(let rho): return Int((Double(globalBatch) / rho).rounded())
        }
    }

    /// One step at `ranks` ranks backpropagating `globalBatch` samples in all.
    /// - Parameters:
    ///   - computeScale: multiplies every compute time, e.g. p/cores when ranks share cores.
    ///   - exchange: how SIFT's selection is exchanged (`auto`: the cheaper, as `sift train` picks).
    public func predict(
        ranks p: Int, globalBatch: Int, policy: ProjectedPolicy, computeScale: Double = 1,
        exchange: SelectionExchange = .allgather
    ) -> StepPrediction {
        precondition(p >= 1 && globalBatch >= 1, "ranks and batch must be positive")
        let perRank = GlobalSelection.largestShare(poolSize: globalBatch, size: p)
        let pool = ScalingModel.poolSize(globalBatch: globalBatch, policy: policy)
        let scored = policy.selects ? GlobalSelection.largestShare(poolSize: pool, size: p) : 0
        let c = compute
        let scoring = computeScale * Double(scored) * c.scoringPerSample
        let work =
            computeScale
            * (Double(perRank) * c.forwardBackwardPerSample
                + Double(scored + perRank) * c.dataPerSample + c.optimizerPerStep)
        let total = bucketedAllreduceSeconds(bytes: gradientBytes, ranks: p, buckets: buckets)
        var exposed = total
        if medium.overlapsCompute {
            let body = bucketedAllreduceSeconds(bytes: gradientBytes - tailBytes, ranks: p, buckets: buckets - tailBuckets)
            let tail = bucketedAllreduceSeconds(bytes: tailBytes, ranks: p, buckets: tailBuckets)
            let backward =
                overlapProgress * computeScale * c.backwardFraction * c.forwardBackwardPerSample
                * Double(min(perRank, microBatch))
            exposed = min(total, max(0, body - backward) + tail)
        }
        let exchangeSeconds =
            policy.selects
            ? ScalingModel.selectionExchangeSeconds(exchange, pool: pool, ranks: p, medium: medium) : 0
        let sync = Double(smallCollectivesPerStep) * ScalingModel.smallAllreduceSeconds(ranks: p, medium: medium)
        return StepPrediction(
            ranks: p, globalBatch: globalBatch, perRankBatch: perRank, perRankPool: scored,
            compute: scoring + work, scoring: scoring, allreduce: total,
            exposedAllreduceWithOverlap: exposed, selectionExchange: exchangeSeconds, synchronisation: sync)
    }

    /// Parallel efficiency of `ranks` ranks against one: throughput_p / (p · throughput_1), where the
    /// single rank backpropagates `baselineBatch` per step. Weak scaling passes the per-rank batch (so
    /// this is throughput_p/(p·throughput_1)); strong scaling passes the global batch (speedup / p).
    public func efficiency(
        ranks p: Int, globalBatch: Int, baselineBatch: Int, policy: ProjectedPolicy,
        overlap: Bool, exchange: SelectionExchange = .allgather
    ) -> Double {
        let one = predict(ranks: 1, globalBatch: baselineBatch, policy: policy, exchange: exchange).samplesPerSecond(overlap: overlap)
        let many = predict(ranks: p, globalBatch: globalBatch, policy: policy, exchange: exchange).samplesPerSecond(overlap: overlap)
        return many / (Double(p) * one)
    }
}
