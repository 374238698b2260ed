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
        watchdog?.enter(.evaluation, step: step)
        let n = min(options.evalSamples ?? validation.count, validation.count)
        let mine = GlobalSelection.share(poolSize: n, rank: communicator.rank, size: communicator.size)
        var sums = [0.0, 0.0, 0.0]
        for s in try exactScorer.sampleLosses(mine.map { (index: $0, epoch: 0) }, from: validation) {
            sums[0] += Double(s.lossSum); sums[1] += Double(s.maskedTokens); sums[2] += Double(s.correct)
        }
        sums = communicator.allreduceSum(sums)
        guard sums[1] > 0 else { return EvaluationResult(loss: 0, accuracy: 0, maskedTokens: 0) }
        return EvaluationResult(loss: sums[0] / sums[1], accuracy: sums[2] / sums[1], maskedTokens: Int(sums[1]))
    }
}
