import Communication
import Data
import Selection

/// How well scoring paths rank real candidate pools against the exact loss: the measurement behind
/// `sift bench --only fidelity` and `sift advise`, in one place.
public enum PoolFidelity {
    /// One path's agreement with the exact loss, averaged over pools: the mean Spearman correlation over the
    /// pools where it is defined (nil: none was) and the mean share of the path's top `keep` in the exact top `keep`.
    public typealias Agreement = SelectionFidelity.Agreement

    /// Pools 0..<`pools` of the candidate stream of `samples` (seed `seed`), `poolSize` candidates each at
    /// epoch 0, scored as `sift train` with that seed scores its step p: each of `scorers` and `exact`
    /// score pool p with (seed, counter p). Pools are split over the ranks; every rank returns the same rows,
    /// one per scorer, in order.
    public static func measure(
        scorers: [Scorer], exact: Scorer, samples: MLMSampleSource, pools: Int, poolSize: Int,
        keep: Int, seed: UInt64, communicator: any Collectives
    ) throws -> [Agreement] {
        let stream = CandidateStream(sampleCount: samples.count, seed: seed)
        // sums[3i...3i+2] = (Σ Spearman, Σ overlap, pools with a defined Spearman) of scorer i
        var sums = [Double](repeating: 0, count: 3 * scorers.count)
        for p in stride(from: communicator.rank, to: pools, by: communicator.size) {
            let (indices, _) = stream.candidates(from: p * poolSize, count: poolSize)
            let pool = indices.map { (index: $0, epoch: 0) }
            let reference = try exact.losses(pool, from: samples, seed: seed, counter: p)
            for (i, scorer) in scorers.enumerated() {
                let approximate = try scorer.losses(pool, from: samples, seed: seed, counter: p)
                let agreement = SelectionFidelity.agreement(
                    approximate: approximate, exact: reference, globalIndices: indices,
                    count: keep)
                if let s = agreement.spearman {
                    sums[3 * i] += s
                    sums[3 * i + 2] += 1
                }
                sums[3 * i + 1] += agreement.topOverlap
            }
        }
        sums = communicator.allreduceSum(sums)
        return scorers.indices.map { i in
            Agreement(
                spearman: sums[3 * i + 2] > 0 ? sums[3 * i] / sums[3 * i + 2] : nil,
                topOverlap: sums[3 * i + 1] / Double(max(1, pools)))
        }
    }
}
