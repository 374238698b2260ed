import Communication
import Core
import Foundation
import Kernels

/// What watches a training step from outside its recipe: the watchdog (the phase this rank is in), the
/// clock (the seconds of each phase, and the measurements kept off the training clock) and the faults
/// the reliability tests inject. The step names the phase each part runs in; the monitor does the rest.
final class StepMonitor {
    /// Aborts the job when a phase stalls (nil when `--watchdog-seconds` is 0).
    let watchdog: Watchdog?
    private let faults: FaultInjection
    private let communicator: any Collectives
    /// Seconds this rank spent in each phase of the current step (from `begin`).
    private(set) var times = PhaseTimes()
    /// Seconds of measurement that is not training (evaluation, fidelity checks), the slowest rank's, summed.
    private(set) var secondsOffTheClock = 0.0
    /// The step being run, 1-based.
    private(set) var step = 0
    private var stepStarted = Date()
    private var offTheClockAtStart = 0.0

    init(options: TrainingOptions, communicator: any Collectives) {
        faults = options.faults
        self.communicator = communicator
        watchdog =
            options.watchdogSeconds > 0
            ? Watchdog(
                timeout: options.watchdogSeconds, rank: communicator.rank,
                peers: communicator.size > 1 ? PeerProbe(communicator: communicator) : nil
            ) {
                communicator.abort(code: ExitStatus.stalled.rawValue)
            }
            : nil
    }

    /// A monitor dropped before the run ends (a trainer used only to evaluate) must not leave its watchdog
    /// counting: it would abort the job once the timeout passed.
    deinit { watchdog?.stop() }

    /// Starts step `step` (1-based) in its first phase, scoring: its times from zero, and a stall here if
    /// one is injected (`--debug-stall-rank`), which the watchdog then reports.
    func begin(step: Int) {
        self.step = step
        times = PhaseTimes()
        stepStarted = Date()
        offTheClockAtStart = secondsOffTheClock
        watchdog?.enter(.scoring, step: step)
        faults.stallIfAsked(rank: communicator.rank, step: step)
    }

    /// Runs `body` as `phase` of the step: tells the watchdog, and adds its seconds to the phase's time.
    @inline(__always)
    func run<T>(_ phase: Watchdog.Phase, _ body: () throws -> T) rethrows -> T {
        watchdog?.enter(phase, step: step)
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { add(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9, to: phase) }
        return try body()
    }

    /// Tells the watchdog this rank entered `phase`, for work that times its own parts (the scorer) or is
    /// not a step's (`step` then counts the finished steps, as evaluation and checkpoints do).
    func enter(_ phase: Watchdog.Phase, step: Int? = nil) {
        watchdog?.enter(phase, step: step ?? self.step)
    }

    /// Adds `seconds` measured elsewhere (the exposed allreduce the buckets time) to `phase`'s time.
    func add(_ seconds: Double, to phase: Watchdog.Phase) {
        switch phase {
        case .data: times.data += seconds
        case .scoring: times.scoring += seconds
        case .selection: times.selection += seconds
        case .forwardBackward: times.forwardBackward += seconds
        case .allreduce: times.exposedAllreduce += seconds
        case .optimizer: times.optimizer += seconds
        case .synchronisation: times.waiting += seconds
        case .evaluation, .checkpoint: break
        }
    }

    /// The scorer's view of the step's times: it adds its batch filling to `data` and its forwards to `scoring`.
    func scoring<T>(_ body: (inout PhaseTimes) throws -> T) rethrows -> T {
        watchdog?.enter(.scoring, step: step)
        return try body(&times)
    }

    /// Runs a measurement that is not training (evaluation, a fidelity check) and keeps its seconds, the
    /// slowest rank's (one collective), off the training clock.
    func offTheClock<T>(_ body: () throws -> T) rethrows -> T {
        let t0 = Date()
        let result = try body()
        secondsOffTheClock += communicator.allreduceMax(Date().timeIntervalSince(t0))
        return result
    }

    /// Wall seconds of the current step so far, less what it kept off the clock.
    var stepSeconds: Double { Date().timeIntervalSince(stepStarted) - (secondsOffTheClock - offTheClockAtStart) }

    /// The loss weight of this step's backward: `weight`, or NaN on rank 0 at `--debug-nan-step` so that
    /// its gradients become non-finite.
    func lossWeight(_ weight: Float) -> Float { faults.lossWeight(weight, rank: communicator.rank, step: step) }

    /// After the step: the injected delay, replica divergence or rank-local failure due now, if any.
    func stepFinished(parameters: FloatBuffer) throws {
        faults.afterStep(step, rank: communicator.rank, parameters: parameters)
        try faults.failIfAsked(rank: communicator.rank, step: step)
    }

    /// Stops the watchdog (the run is over).
    func stop() { watchdog?.stop() }
}
