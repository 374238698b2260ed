import Communication
import Selection

/// Steps 2 and 2½: the global selection, and the fidelity check that measures it.
extension Trainer {
    /// 2. Agrees on the global selection (one allgather, or the threshold exchange's rounds), updates the
    /// stale-score table with the fresh scores.
    func select(_ plan: StepPlan, losses: [Float], scores: [Float]?) throws -> GlobalSelectionResult {
        let exchange = options.selectionExchange  // resolved by `Trainer.init`: never `auto`
        var result = monitor.run(.selection) {
            selection.select(
                localLosses: losses, localScores: scores, pool: plan.pool, count: options.batchSize,
                rule: plan.rule, history: &history, beta: options.beta,
                seed: options.seed, step: step, exchange: exchange)
        }
        // +∞ is allowed only as a `last-loss` candidate without a recorded loss.
        if result.invalidLosses > 0 || (result.infiniteLosses > 0 && !options.ranksByTrainingLoss) {
            throw TrainingError(message: "non-finite approximate loss at step \(step + 1): training has diverged (lower --lr?)")
        }
        // The threshold exchange gathers no losses; the selection log needs them all.
        if plan.selects && result.poolLosses.isEmpty && options.selectionLogPath != nil {
            result.poolLosses = communicator.allgatherv(losses)
            result.poolScores = scores.map { communicator.allgatherv($0) } ?? result.poolLosses
        }
        if staleTable != nil {
            for (position, isFresh) in plan.fresh.enumerated() where isFresh {
                staleTable!.record(plan.pool[position], loss: result.poolLosses[position], score: result.poolScores[position], step: step)
            }
        }
        return result
    }

    /// On `--fidelity-every` steps that select, off the training clock: how well the losses the selection
    /// used rank the pool against its exact losses (`SelectionFidelity.agreement`). `losses` are this rank's
    /// approximate losses, gathered here when the selection did not gather them.
    func measureFidelityIfDue(
        _ plan: StepPlan, _ result: GlobalSelectionResult,
        losses: [Float]
    ) throws -> SelectionFidelity.Agreement? {
        guard plan.selects, options.fidelityEvery > 0, (step + 1) % options.fidelityEvery == 0 else { return nil }
        return try monitor.offTheClock {
            let exact = try exactScorer.losses(Array(plan.samples(plan.share)), from: train, seed: options.seed, counter: step)
            let all = communicator.allgatherv(exact)
            let approximate = result.poolLosses.isEmpty ? communicator.allgatherv(losses) : result.poolLosses
            return SelectionFidelity.agreement(approximate: approximate, exact: all, globalIndices: plan.pool, count: options.batchSize)
        }
    }
}
