import Foundation
import Selection

/// Checking a run's options before any MPI work starts: the one list of what `sift train` refuses
/// (and what every other entry point that builds `TrainingOptions` refuses too).
extension TrainingOptions {
    /// The first problem with these options for a model of `numLayers` layers, or nil.
    public func validationError(numLayers: Int, ranks: Int) -> String? {
        if batchSize < 1 { return "--batch-size must be at least 1 (got \(batchSize))" }
        if !(selectFraction > 0 && selectFraction <= 1) { return "--select-fraction must be in (0, 1] (got \(selectFraction))" }
        // Bounded before `poolSize` converts it to an integer; what fits the machine is checked at setup (`MemoryEstimate`).
        let pool = policy.exactPoolSize(batchSize: batchSize, selectFraction: selectFraction)
        if policy.selects && pool > Double(Self.maximumPool) {
            return "--select-fraction \(selectFraction) makes a pool of \(pool) candidates per step "
                + "from --batch-size \(batchSize); at most \(Self.maximumPool)"
        }
        if exitLayer < 1 || exitLayer > numLayers {
            return "--exit-layer must be between 1 and the model's \(numLayers) layers (got \(exitLayer))"
        }
        if batchSize < ranks { return "--batch-size \(batchSize) is smaller than the \(ranks) ranks: every rank needs at least one sample" }
        if poolSize < ranks { return "candidate pool of \(poolSize) is smaller than the \(ranks) ranks" }
        if microBatch < 1 { return "--micro-batch must be at least 1" }
        if siftDelay < 0 { return "--sift-delay must be non-negative (got \(siftDelay))" }
        if !(siftStartLearned >= 0 && siftStartLearned < 1) {
            return "--sift-start-learned must be in [0, 1) (got \(siftStartLearned))"
        }
        if scorePositions < 0 { return "--score-positions must be non-negative (got \(scorePositions))" }
        if staleScores < 0 { return "--stale-scores must be non-negative (got \(staleScores))" }
        if scoreVocabulary < 0 { return "--score-vocabulary must be non-negative (got \(scoreVocabulary))" }
        if policy == .lastLoss && (staleScores > 0 || scorePositions > 0 || scoreVocabulary > 0) {
            let flag = staleScores > 0 ? "stale-scores" : scorePositions > 0 ? "score-positions" : "score-vocabulary"
            return "--\(flag) shapes a scoring forward, and --policy last-loss has none"
        }
        if historyLength < 1 { return "--history-length must be at least 1 (got \(historyLength))" }
        if !(beta > 0) || !beta.isFinite { return "--beta must be positive (got \(beta))" }
        if fitsScheduleToBudget && timeBudget == nil { return "a budget-fitted schedule needs --time-budget" }
        if calibrationSteps < 1 { return "calibration needs at least one step" }
        if scheduleRefitEvery < 0 { return "--schedule-refit-every must be non-negative (got \(scheduleRefitEvery))" }
        if !(learningRate > 0) || !learningRate.isFinite { return "--lr must be positive (got \(learningRate))" }
        if warmupSteps < 0 { return "--warmup must be non-negative" }
        if steps < 1 { return "--steps must be at least 1" }
        if steps > Self.maximumSteps { return "--steps must be at most \(Self.maximumSteps) (got \(steps))" }
        if let s = stopAfter, s < 1 { return "--stop-after must be at least 1" }
        if let s = stopAfter, s > Self.maximumSteps { return "--stop-after must be at most \(Self.maximumSteps) (got \(s))" }
        if let t = timeBudget, !(t > 0) { return "--time-budget must be positive" }
        if let a = targetAccuracy, !(a > 0 && a <= 1) { return "--target-accuracy must be in (0, 1]" }
        if evalEvery < 0 || checkpointEvery < 0 || checkReplicasEvery < 0 || fidelityEvery < 0 { return "intervals must be non-negative" }
        if keepCheckpoints < 1 { return "--keep-checkpoints must be at least 1" }
        if !(watchdogSeconds >= 0) { return "--watchdog-seconds must be non-negative" }
        if bucketBytes < 4096 { return "--bucket-mb is too small" }
        if resume && checkpointDirectory == nil { return "--\(resumeOrStart ? "resume-or-start" : "resume") needs --checkpoint-dir" }
        if let from = phaseFrom {
            if resume {
                return
                    "--phase-from starts a new phase and --\(resumeOrStart ? "resume-or-start" : "resume") continues one; pass one of them"
            }
            if fitsScheduleToBudget { return "--phase-from needs --steps: a new phase's schedule is its own number of steps" }
            if let dir = checkpointDirectory, Self.sameFolder(dir, from) {
                return "--phase-from and --checkpoint-dir name the same folder \(dir); a new phase writes its "
                    + "checkpoints into a new folder, so the earlier phase's stay as they were"
            }
        }
        if resume && startOver { return "--start-over and --\(resumeOrStart ? "resume-or-start" : "resume") exclude each other" }
        if selectionExchange == .threshold, let problem = thresholdExchangeProblem {
            return "--selection-exchange threshold \(problem); use allgather or auto"
        }
        return nil
    }

    /// Whether two paths name the same folder (after standardizing; an existing folder by its real path).
    static func sameFolder(_ a: String, _ b: String) -> Bool {
        func canonical(_ p: String) -> String {
            let url = URL(fileURLWithPath: p).standardizedFileURL
            return url.resolvingSymlinksInPath().path
        }
        return canonical(a) == canonical(b)
    }
}
