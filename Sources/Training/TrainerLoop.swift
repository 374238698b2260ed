import Communication
import Foundation
import Selection

/// The training loop: steps, evaluation, stop decisions, checkpoints and reports.
extension Trainer {
    /// Trains until `--steps`, `--time-budget`, `--target-accuracy`, `--stop-after` or a preemption
    /// signal stops it, evaluating, checkpointing and reporting along the way.
    public func run() throws -> TrainingResult {
        let reporter = try StepObserver(options: options, isRoot: isRoot, firstStep: step, output: output)
        var run = RunTally(firstStep: step, trainedFor: elapsedBefore)
        var stop: StopReason?
        while stop == nil && step < stepLimit {
            let record = try trainStep()
            try tallyStep(&run)
            if options.checkReplicasEvery > 0 && step % options.checkReplicasEvery == 0 { try checkReplicas() }
            let evaluation = try evaluateIfDue()
            let (now, preempted) = agreeOnClock(&run)
            if let e = evaluation, let target = options.targetAccuracy, e.accuracy >= target, run.targetReached == nil {
                run.targetReached = (now, samplesBackpropagated, step)
            }
            reporter.stepFinished(
                record, samplesScored: samplesScored, samplesBackpropagated: samplesBackpropagated,
                elapsed: now, runElapsed: now - elapsedBefore, stepsDone: step - run.firstStep,
                total: options.fitsScheduleToBudget ? (fittedSchedule?.totalSteps ?? 0) : phaseStart + options.steps,
                times: monitor.times, evaluation: evaluation, ranks: communicator.size,
                tokensPerSecond: Double(record.tokens) / run.lastStepSeconds)
            stop = StopReason(options: options, step: step, now: now, preempted: preempted, targetReached: run.targetReached)
            if let dir = options.checkpointDirectory,
                (options.checkpointEvery > 0 && step % options.checkpointEvery == 0) || stop != nil || step == stepLimit
            {
                try saveCheckpoint(directory: dir, elapsed: now)
            }
        }
        if let stop { reporter.say(stop.message(step: step)) }
        // A preempted run skips the final evaluation: the scheduler's grace period is for the checkpoint.
        let final = stop == .preempted ? nil : try finalEvaluation(reporter, trainedFor: run.trainedFor)
        monitor.stop()
        return TrainingResult(
            steps: step, samplesScored: samplesScored, samplesBackpropagated: samplesBackpropagated,
            elapsedSeconds: run.trainedFor, finalEvaluation: final,
            targetReached: stop == .preempted ? nil : run.targetReached, phaseTimes: run.totalTimes,
            stepsTimed: run.stepsTimed, firstStepSeconds: run.firstStepSeconds, preempted: stop == .preempted)
    }

    /// The step the loop runs to: `--steps` past the phase's start, or the fitted schedule's length once known.
    var stepLimit: Int {
        guard options.fitsScheduleToBudget else { return phaseStart + options.steps }
        return min(options.steps, fittedSchedule?.totalSteps ?? Int.max)
    }

    /// After a step: its time (calibrating a budget-fitted schedule, the first step's agreed seconds), its
    /// phase times in the run's totals, and the faults injected after it.
    fileprivate func tallyStep(_ run: inout RunTally) throws {
        run.lastStepSeconds = monitor.stepSeconds
        if options.fitsScheduleToBudget && fittedSchedule == nil {
            calibrate(
                stepSeconds: run.lastStepSeconds, elapsed: run.elapsed(before: elapsedBefore, offTheClock: monitor.secondsOffTheClock))
        }
        run.totalTimes.add(monitor.times)
        if run.stepsTimed == 0 { run.firstStepSeconds = communicator.allreduceMax(run.lastStepSeconds) }
        run.stepsTimed += 1
        try monitor.stepFinished(parameters: model.parameters)
    }

    /// The evaluation due after this step, if any (not after the last one: the final evaluation follows),
    /// kept off the training clock: it is measurement, not training.
    func evaluateIfDue() throws -> EvaluationResult? {
        guard options.evaluates(atStep: step) && step < stepLimit else { return nil }
        return try monitor.offTheClock { try measureValidation() }
    }

    /// The training clock and whether any rank was asked to stop (preemption), agreed in one collective so
    /// that every rank takes the same stop decision; re-fits a budget-fitted schedule to it.
    fileprivate func agreeOnClock(_ run: inout RunTally) -> (now: Double, preempted: Bool) {
        let agreed = communicator.allreduceMax([
            run.elapsed(before: elapsedBefore, offTheClock: monitor.secondsOffTheClock),
            Double(Preemption.requested)
        ])
        run.trainedFor = agreed[0]
        refit(now: agreed[0])
        return (agreed[0], agreed[1] > 0)
    }

    /// The closing evaluation, reported with the training clock of the last step.
    func finalEvaluation(_ reporter: StepObserver, trainedFor: Double) throws -> EvaluationResult? {
        reporter.finish()
        let final = try measureValidation()
        if let f = final { reporter.finished(step: step, final: f, elapsed: trainedFor) }
        return final
    }
}

/// What `run` keeps across its steps for the summary: the training clock, phase-time totals and the target.
private struct RunTally {
    let started = Date()
    let firstStep: Int
    /// The training clock at the end of the last step (agreed across ranks): the final evaluation and the
    /// summary are stamped with it, so measuring the result does not count as training time.
    var trainedFor: Double
    var totalTimes = PhaseTimes()
    var stepsTimed = 0
    var firstStepSeconds = 0.0
    var lastStepSeconds = 0.0
    var targetReached: (seconds: Double, samples: Int, step: Int)?

    init(firstStep: Int, trainedFor: Double) {
        self.firstStep = firstStep
        self.trainedFor = trainedFor
    }

    /// This rank's training clock now: the seconds before this process, plus this run's, less measurement.
    func elapsed(before: Double, offTheClock: Double) -> Double { before + Date().timeIntervalSince(started) - offTheClock }
}
