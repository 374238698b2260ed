import Communication
import Core
import Data
import Foundation
import Kernels
import Model
import Selection

/// The training loop: steps, evaluation, stop decisions, checkpoints and reports.
extension Trainer {
    /// Trains until `--steps`, `--time-budget`, `--target-accuracy`, `--stop-after` or a preemption
    /// signal stops it, evaluating, checkpointing and reporting along the way.
    public func run() throws -> TrainingSummary {
        let observer = try StepObserver(options: options, isRoot: isRoot, output: output)
        let started = Date()
        var totalTimes = PhaseTimes()
        var stepsTimed = 0
        var firstStepSeconds = 0.0
        var targetReached: (seconds: Double, samples: Int, step: Int)?
        let firstStep = step

        func elapsed() -> Double { elapsedBefore + Date().timeIntervalSince(started) - offTheClock }
        // The training clock at the end of the last step (agreed across ranks): the final evaluation and the
        // summary are stamped with it, so measuring the result does not count as training time.
        var trainedFor = elapsedBefore

        while step < stepLimit {
            var times = PhaseTimes()
            let t0 = Date()
            let offBefore = offTheClock
            let record = try trainStep(times: &times)
            let stepSeconds = Date().timeIntervalSince(t0) - (offTheClock - offBefore)
            if options.fitsScheduleToBudget && fittedSchedule == nil {
                calibrate(stepSeconds: stepSeconds, elapsed: elapsed())
            }
            totalTimes.add(times)
            if stepsTimed == 0 { firstStepSeconds = communicator.allreduceMax(stepSeconds) }
            stepsTimed += 1
            options.faults.afterStep(step, rank: communicator.rank, parameters: model.parameters)
            try options.faults.failIfAsked(rank: communicator.rank, step: step)

            if options.checkReplicasEvery > 0 && step % options.checkReplicasEvery == 0 {
                try checkReplicas()
            }
            var evaluation: EvaluationResult?
            if options.evaluates(atStep: step) && step < stepLimit {
                // Evaluation is measurement, not training: its time is kept off the clock.
                let e0 = Date()
                evaluation = try measureValidation()
                offTheClock += communicator.allreduceMax(Date().timeIntervalSince(e0))
            }
            // Every rank must take the same stop decision: the slowest rank's clock, and whether any rank
            // was asked to stop (preemption), agreed in one collective.
            let agreed = communicator.allreduceMax([elapsed(), Double(Preemption.requested)])
            let now = agreed[0]
            let preempted = agreed[1] > 0
            trainedFor = now
            refit(now: now)
            if let e = evaluation, let target = options.targetAccuracy, e.accuracy >= target, targetReached == nil {
                targetReached = (now, samplesBackpropagated, step)
            }
            observer.stepFinished(record, samplesScored: samplesScored, samplesBackpropagated: samplesBackpropagated,
                                  elapsed: now, runElapsed: now - elapsedBefore, stepsDone: step - firstStep,
                                  total: options.fitsScheduleToBudget ? (fittedSchedule?.totalSteps ?? 0) : options.steps,
                                  times: times, evaluation: evaluation, ranks: communicator.size,
                                  tokensPerSecond: Double(record.tokens) / stepSeconds)

            let outOfTime = options.timeBudget.map { now >= $0 } ?? false
            let paused = options.stopAfter.map { step >= $0 } ?? false
            let stop = outOfTime || targetReached != nil || paused || preempted
            if let dir = options.checkpointDirectory,
               (options.checkpointEvery > 0 && step % options.checkpointEvery == 0) || stop || step == stepLimit {
                try saveCheckpoint(directory: dir, elapsed: now)
            }
            if stop {
                observer.say(preempted ? "preempted at step \(step); continue with --resume"
                             : paused ? "stopped after step \(step) as asked (--stop-after); continue with --resume"
                             : outOfTime ? "time budget of \(Int(options.timeBudget!)) s reached at step \(step)"
                             : String(format: "target accuracy %.1f%% reached at step %d after %.1f s and %d backpropagated samples",
                                      100 * options.targetAccuracy!, step, targetReached!.seconds, targetReached!.samples))
                if preempted {
                    // No final evaluation: the scheduler's grace period is for the checkpoint.
                    watchdog?.stop()
                    return TrainingSummary(steps: step, samplesScored: samplesScored, samplesBackpropagated: samplesBackpropagated,
                                           elapsedSeconds: trainedFor, finalEvaluation: nil, targetReached: nil,
                                           phaseTimes: totalTimes, stepsTimed: stepsTimed, firstStepSeconds: firstStepSeconds, preempted: true)
                }
                break
            }
        }
        observer.finish()
        let final = try measureValidation()
        watchdog?.stop()
        if let f = final { observer.finished(step: step, final: f, elapsed: trainedFor) }
        return TrainingSummary(steps: step, samplesScored: samplesScored, samplesBackpropagated: samplesBackpropagated,
                               elapsedSeconds: trainedFor, finalEvaluation: final, targetReached: targetReached,
                               phaseTimes: totalTimes, stepsTimed: stepsTimed, firstStepSeconds: firstStepSeconds)
    }

    /// The step the loop runs to: `--steps`, or the fitted schedule's length once known.
    var stepLimit: Int {
        guard options.fitsScheduleToBudget else { return options.steps }
        return min(options.steps, fittedSchedule?.totalSteps ?? Int.max)
    }
}
