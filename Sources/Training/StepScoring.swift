import Model
import Selection

/// Step 1: scoring this rank's share of the pool.
extension Trainer {
    /// 1. Scores this rank's share of the pool along the scoring path: the approximate losses and, for
    /// `--score reducible`, the scores; stale entries come from the table. Nothing when the step does not select.
    func score(_ plan: StepPlan) throws -> (losses: [Float], scores: [Float]?) {
        guard plan.selects else { return ([], nil) }
        guard let scorer else { return lastTrainingLosses(plan) }
        let reducible = options.score == .reducible
        var losses = [Float](repeating: 0, count: plan.share.count)
        var scores: [Float]? = reducible ? losses : nil
        let toScore = plan.share.filter { plan.fresh[$0] }
        prefixSlots = Array(repeating: nil, count: plan.share.count)
        let samples = Array(plan.samples(toScore))
        try monitor.scoring { times in
            try scorer.score(samples, from: train, seed: options.seed, counter: step, times: &times) { first, batch, scored, chunk in
                for row in 0..<batch.count {
                    let at = toScore[first + row] - plan.share.lowerBound
                    losses[at] = scored[row].meanLoss
                    if let chunk { prefixSlots[at] = PrefixSlot(chunk: chunk, row: row) }
                    if reducible { scores![at] = reducibleScore(scored[row].meanLoss, batch, row: row) }
                }
            }
        }
        if let table = staleTable {
            for position in plan.share where !plan.fresh[position] {
                let e = table.entry(plan.pool[position])
                losses[position - plan.share.lowerBound] = e.loss
                if reducible { scores![position - plan.share.lowerBound] = e.score }
            }
        }
        return (losses, scores)
    }

    /// `last-loss`, which has no scoring forward: each candidate's training loss (and score) from its last
    /// backpropagation, +∞ if it has none.
    func lastTrainingLosses(_ plan: StepPlan) -> (losses: [Float], scores: [Float]?) {
        let table = staleTable!
        let entries = plan.share.map { table.isRecorded(plan.pool[$0]) ? table.entry(plan.pool[$0]) : (Float.infinity, Float.infinity) }
        return (entries.map(\.0), options.score == .reducible ? entries.map(\.1) : nil)
    }

    /// The reducible score of `batch`'s sample `row` with mean loss `loss`: what the model still gets wrong
    /// beyond a unigram model (the loss minus its masked labels' mean −log unigram frequency).
    func reducibleScore(_ loss: Float, _ batch: MLMBatch, row: Int) -> Float {
        let T = batch.seqLen
        return batch.labels.withUnsafeBufferPointer { loss - reference!.meanLoss(labels: $0.baseAddress! + row * T, count: T) }
    }
}
