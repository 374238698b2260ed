import Data
import Model

extension MLMBatch {
    /// Fills rows `0..<samples.count` with the given samples of `source` — token ids, token types,
    /// attention mask, labels and `sampleIndices` — and, with `positions`, keeps at most `limit` masked
    /// positions per row (`ScoringPositions`, keyed by `key` and the sample's global index).
    ///
    /// The one place a batch is filled from a sample source (the trainer's steps and evaluation, `sift
    /// score`). Writes in place through the arrays' buffers: no allocation when the batch is reused.
    /// - Precondition: `samples.count <= count` and `source.seqLen == seqLen`.
    public mutating func fill<C: Collection>(
        _ samples: C, from source: MLMSampleSource,
        positions: (limit: Int, key: UInt64)? = nil
    )
    where C.Element == (index: Int, epoch: Int) {
        precondition(
            samples.count <= count && source.seqLen == seqLen,
            "batch of \(count)×\(seqLen) cannot hold \(samples.count)×\(source.seqLen)")
        let T = seqLen
        inputIds.withUnsafeMutableBufferPointer { ids in
            tokenTypeIds.withUnsafeMutableBufferPointer { types in
                attentionMask.withUnsafeMutableBufferPointer { mask in
                    labels.withUnsafeMutableBufferPointer { labels in
                        for (row, s) in samples.enumerated() {
                            source.fill(
                                index: s.index, epoch: s.epoch,
                                inputIds: ids.baseAddress! + row * T, tokenTypeIds: types.baseAddress! + row * T,
                                attentionMask: mask.baseAddress! + row * T, labels: labels.baseAddress! + row * T)
                            if let p = positions {
                                ScoringPositions.keep(
                                    atMost: p.limit, labels: labels.baseAddress! + row * T, count: T,
                                    sample: s.index, key: p.key)
                            }
                        }
                    }
                }
            }
        }
        for (row, s) in samples.enumerated() { sampleIndices[row] = s.index }
    }
}
