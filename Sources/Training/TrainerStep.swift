import Communication
import Core
import Foundation
import Kernels
import Model
import Selection

/// One optimizer step as a recipe: plan, score, select, check fidelity, backpropagate, update, agree.
/// Each part is in the file named after it; `monitor` watches them (watchdog, phase times, faults).
extension Trainer {
    /// Runs one optimizer step and returns its statistics (identical on every rank; the phase times are
    /// this rank's, in `monitor.times`).
    func trainStep() throws -> StepRecord {
        monitor.begin(step: step + 1)
        let plan = planStep()
        let (losses, scores) = try score(plan)
        let selected = try select(plan, losses: losses, scores: scores)
        let fidelity = try measureFidelityIfDue(plan, selected, losses: losses)
        let trained = try backpropagate(plan, selected)
        let (norm, learningRate) = update()
        let (trainLoss, learnedShare) = try agreeOnLoss(trained, gradientNorm: norm)

        step += 1
        samplesScored += plan.freshCount
        samplesBackpropagated += options.batchSize
        var record = StepRecord(
            step: step, trainLoss: trainLoss, learningRate: learningRate, gradientNorm: norm,
            threshold: selected.threshold,
            meanCandidateLoss: selected.meanCandidateLoss, meanSelectedLoss: selected.meanSelectedLoss,
            selectedPerRank: selected.selectedPerRank, imbalance: selected.imbalance,
            maskedTokens: trained.globalMasked, tokens: options.batchSize * train.seqLen, fidelity: fidelity)
        record.learnedShare = learnedShare
        if options.selectionLogPath != nil {
            record.selection = SelectionTrace(
                pool: plan.pool, losses: selected.poolLosses,
                scores: scores == nil ? nil : selected.poolScores,
                selected: selected.selectedPositions.map { plan.pool[$0] })
        }
        return record
    }

    /// 4. Clips the summed gradients to `--clip-norm` and applies the optimizer at the schedule's rate; a
    /// non-finite norm skips the update (`agreeOnLoss` then stops with an error).
    func update() -> (norm: Double, learningRate: Float) {
        monitor.run(.optimizer) { () -> (Double, Float) in
            let norm = globalNorm(model.gradients)
            let scale: Float = norm > Double(options.clipNorm) ? Float(Double(options.clipNorm) / norm) : 1
            let lr = schedule.rate(at: step + 1 - phaseStart)
            if norm.isFinite {
                optimizer.update(
                    parameters: model.parameters, gradients: model.gradients, learningRate: lr,
                    step: step + 1, gradientScale: scale)
            }
            return (norm, lr)
        }
    }

    /// 5. The step's mean training loss over all ranks (one allreduce, which also sums the unigram loss
    /// while `--sift-start-learned` waits), stopping on divergence; feeds the sift-start gate and returns
    /// its learned share while it waits.
    func agreeOnLoss(_ trained: TrainedSums, gradientNorm norm: Double) throws -> (trainLoss: Double, learnedShare: Double?) {
        let waiting = siftStart.isPending
        let totals = monitor.run(.synchronisation) {
            communicator.allreduceSum(waiting ? [trained.lossSum, trained.unigramSum] : [trained.lossSum])
        }
        let trainLoss = totals[0] / Double(trained.globalMasked)
        if !norm.isFinite || !trainLoss.isFinite {
            let what = norm.isFinite ? "loss" : "gradient norm"
            throw TrainingError(message: "non-finite \(what) at step \(step + 1): training has diverged (lower --lr?)")
        }
        guard waiting else { return (trainLoss, nil) }
        siftStart.observe(step: step, trainLoss: trainLoss, unigramLoss: totals[1] / Double(trained.globalMasked), options: options)
        if let start = siftStart.startStep, isRoot {
            output(
                String(
                    format: "selection starts at step %d: the model has learned %.3f of the unigram loss "
                        + "(--sift-start-learned %.3f)", start + 1, siftStart.learnedShare, options.siftStartLearned))
        }
        return (trainLoss, siftStart.learnedShare)
    }
}
