import Communication
import Core
import Data
import Foundation
import Kernels
import Model
import Selection

/// Fitting the learning-rate schedule to a time budget: calibration, then periodic re-fits.
extension Trainer {
    func fixSchedule(_ f: FittedSchedule) {
        fittedSchedule = f
        schedule = LearningRateSchedule(
            peak: options.learningRate, warmupSteps: options.warmupSteps,
            totalSteps: f.totalSteps, decayStart: f.decayStart, decayStartRate: f.startRate)
    }

    /// Times the steps up to `options.calibrationEnd` and then fixes the schedule's length so that it
    /// ends with the time budget: remaining budget / mean step time of the last `calibrationSteps`
    /// steps (the slowest rank's; every rank computes the same length). The rate decays from there.
    func calibrate(stepSeconds: Double, elapsed: Double) {
        guard step > options.calibrationEnd - options.calibrationSteps else { return }
        calibrationTimes.append(communicator.allreduceMax(stepSeconds))
        guard step >= options.calibrationEnd, let budget = options.timeBudget else { return }
        let perStep = calibrationTimes.reduce(0, +) / Double(calibrationTimes.count)
        let now = communicator.allreduceMax(elapsed)
        let remaining = max(1, Int(((budget - now) / max(perStep, 1e-6)).rounded(.down)))
        fixSchedule(FittedSchedule(totalSteps: step + remaining, decayStart: step, fittedAt: now))
        if isRoot {
            output(
                String(
                    format: "schedule fitted to the %.0f s budget: %d steps (%.3f s per step over steps %d–%d); "
                        + "the learning rate decays from step %d",
                    budget, step + remaining, perStep, step - calibrationTimes.count + 1, step, step))
        }
    }

    /// Every `--schedule-refit-every` steps after the fit: the remaining budget over the mean step time
    /// since the last fit (the agreed clock `now`, the same on every rank) gives the schedule a new end,
    /// and the rate decays linearly from its value at this step to 0 there.
    func refit(now: Double) {
        guard options.fitsScheduleToBudget, options.scheduleRefitEvery > 0, let budget = options.timeBudget,
            let f = fittedSchedule, let since = f.fittedAt, step - f.decayStart >= options.scheduleRefitEvery,
            step < f.totalSteps
        else { return }
        let perStep = (now - since) / Double(step - f.decayStart)
        let total = step + max(1, Int(((budget - now) / max(perStep, 1e-6)).rounded(.down)))
        fixSchedule(FittedSchedule(totalSteps: total, decayStart: step, startRate: schedule.rate(at: step), fittedAt: now))
        if isRoot && total != f.totalSteps {
            output(
                String(
                    format: "schedule re-fitted at step %d: %d steps (%.3f s per step since step %d)",
                    step, total, perStep, f.decayStart))
        }
    }
}
