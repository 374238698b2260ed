import Selection

/// One probe run's final validation loss and accuracy and its training time without the first step (which allocates).
struct ProbeRun {
    var loss: Double
    var accuracy: Double
    var steadySeconds: Double
    var steadySteps: Int
    /// The selection exchange the run used (the trainer's resolution of `--selection-exchange`).
    var exchange: SelectionExchange

    /// Seconds per step over several runs, each run weighted by its steps.
    static func secondsPerStep(_ runs: [ProbeRun]) -> Double {
        runs.map(\.steadySeconds).reduce(0, +) / Double(max(1, runs.map(\.steadySteps).reduce(0, +)))
    }
}
