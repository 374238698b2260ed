import Communication
import Core
import Data
import Foundation
import Kernels
import Model
import Selection

/// The held-out evaluation of a run.
extension Trainer {
    /// Validation MLM loss and accuracy over the first `evalSamples` held-out samples, spread over ranks.
    public func measureValidation() throws -> EvaluationResult? {
        guard let validation else { return nil }
        monitor.enter(.evaluation, step: step)
        let n = min(options.evalSamples ?? validation.count, validation.count)
        let mine = GlobalSelection.share(poolSize: n, rank: communicator.rank, size: communicator.size)
        var sums = [0.0, 0.0, 0.0, 0.0]
        for s in try exactScorer.sampleLosses(mine.map { (index: $0, epoch: 0) }, from: validation) {
            sums[0] += Double(s.lossSum)
            sums[1] += Double(s.maskedTokens)
            sums[2] += Double(s.correct)
        }
        if let reference {
            // The unigram model's loss on the same masked tokens, for the learned share.
            var start = mine.lowerBound
            while start < mine.upperBound {
                let end = min(start + options.microBatch, mine.upperBound)
                let mb = fill((start..<end).map { (index: $0, epoch: 0) }[...], from: validation)
                sums[3] += mb.labels.withUnsafeBufferPointer {
                    reference.totalLoss(labels: $0.baseAddress!, count: mb.count * mb.seqLen).sum
                }
                start = end
            }
        }
        sums = communicator.allreduceSum(sums)
        guard sums[1] > 0 else { return EvaluationResult(loss: 0, accuracy: 0, maskedTokens: 0) }
        return EvaluationResult(
            loss: sums[0] / sums[1], accuracy: sums[2] / sums[1], maskedTokens: Int(sums[1]),
            unigramLoss: reference == nil ? nil : sums[3] / sums[1])
    }
}
