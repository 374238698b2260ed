import Data
import Model

/// Reusable batches indexed by sample count, so that steady-state steps fill batches without allocating.
struct BatchCache {
    private var batches: [MLMBatch?]
    /// Tokens per sample of every cached batch.
    let seqLen: Int

    /// Caches batches of 0…`largest` samples of `seqLen` tokens (larger ones are allocated each time).
    init(largest: Int, seqLen: Int) {
        batches = Array(repeating: nil, count: largest + 1)
        self.seqLen = seqLen
    }

    /// A batch filled with `samples` (global index, epoch) of `source`; with `positions`, at most `limit`
    /// masked positions per sample are kept (`ScoringPositions`, keyed by `key`). The cached batch is
    /// taken out while it is filled, so that the writes go in place instead of copying its arrays.
    mutating func fill<C: Collection>(
        _ samples: C, from source: MLMSampleSource,
        positions: (limit: Int, key: UInt64)? = nil
    ) -> MLMBatch
    where C.Element == (index: Int, epoch: Int) {
        let n = samples.count
        var b = n < batches.count ? batches[n] ?? MLMBatch(count: n, seqLen: seqLen) : MLMBatch(count: n, seqLen: seqLen)
        if n < batches.count { batches[n] = nil }
        b.fill(samples, from: source, positions: positions)
        if n < batches.count { batches[n] = b }
        return b
    }
}
