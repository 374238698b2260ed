import Core
import Data
import Model

/// Random token ids with 15% of positions masked, keyed by (salt, index): the data of `sift bench`'s
/// step measurement (its speed does not depend on the text).
struct SyntheticSamples: MLMSampleSource {
    let count: Int
    let seqLen: Int
    let vocab: Int
    let salt: UInt64

    func fill(
        index: Int, epoch: Int, inputIds: UnsafeMutablePointer<Int32>, tokenTypeIds: UnsafeMutablePointer<Int32>,
        attentionMask: UnsafeMutablePointer<Int32>, labels: UnsafeMutablePointer<Int32>
    ) {
        for t in 0..<seqLen {
            let r = CounterHash.bits(salt, RandomStream.benchTokens.rawValue, UInt64(index), UInt64(t))
            let id = Int32(5 + Int(r % UInt64(vocab - 5)))
            tokenTypeIds[t] = 0
            attentionMask[t] = 1
            if (r >> 40) % 100 < 15 {
                labels[t] = id
                inputIds[t] = 4
            } else {
                labels[t] = MLMBatch.ignoredLabel
                inputIds[t] = id
            }
        }
    }
}
