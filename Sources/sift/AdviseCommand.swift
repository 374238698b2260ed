import Advice
import ArgumentParser
import Communication
import Core
import Foundation
import Setup
import Training

extension ProbeGain.Metric: ExpressibleByArgument {}

/// `sift advise`: whether loss-based selection pays for continuing a run, measured from its checkpoint.
struct AdviseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "advise",
        abstract: "Measure whether SIFT's selection would pay from a checkpoint on, and recommend a configuration.",
        discussion: """
            From the model and the data, per seed: vanilla for --probe-steps N and for 3N/4 steps, and each selecting \
            configuration (--exit-layers × --select-fractions) for 3N/4 steps, every run from the model's weights with \
            its own schedule. The final validation accuracies, and separately the losses, give the share of vanilla's \
            steps selection saves per backpropagated sample (the gain) on each metric; the runs' step times give its \
            overhead; the predicted wall-clock ratio to reach vanilla's accuracy (or loss) is (1 − gain)(1 + overhead). \
            Both are printed, with a line where they disagree; the verdict follows --metric. Also prints how well each exit layer ranks real pools \
            against the exact loss. Run under mpirun like `sift train`: the probe uses every rank. How the method \
            was checked: docs/EXPERIMENTS.md.
            """)

    @Option(help: "Warm start: a HuggingFace-format directory, a checkpoint file, or a checkpoint directory.")
    var model: String
    @Option(help: "Dataset directory written by `sift prepare` (needs a validation split).")
    var data: String
    @Option(help: "Vanilla's longer probe budget N, in steps; the other runs take 3N/4.")
    var probeSteps: Int = ProbePlan().probeSteps
    @Option(help: "Comma-separated seeds, one probe each.")
    var seeds: String = ProbePlan().seeds.map(String.init).joined(separator: ",")
    @Option(help: "Comma-separated exit layers probed.")
    var exitLayers: String = ProbePlan().exitLayers.map(String.init).joined(separator: ",")
    @Option(help: "Comma-separated selection fractions ρ probed, each in (0, 1).")
    var selectFractions: String = ProbePlan().selectFractions.map { "\($0)" }.joined(separator: ",")
    @Option(help: "Samples backpropagated per step over all ranks (b).")
    var batchSize: Int = trainDefaults.batchSize
    @Option(help: "Largest number of samples per forward/backward call on a rank.")
    var microBatch: Int = trainDefaults.microBatch
    @Option(help: "Peak learning rate of every probe run's schedule (linear warm-up, linear decay to 0).")
    var lr: Float = trainDefaults.learningRate
    @Option(help: "Warm-up of every probe run, in steps (default: --probe-steps × 3/20, rounded down).")
    var warmup: Int?
    @Option(help: "Train on a fixed subset of this many training sequences (default: the whole training split).")
    var trainSubset: Int?
    @Option(help: "Validation samples evaluated at the end of every run, the first ones of the split (0: all).")
    var evalSamples: Int = 1600
    @Option(help: "Pools on which each exit layer's fidelity is measured.")
    var fidelityPools: Int = ProbePlan().fidelityPools
    @Option(help: "Dropout probability (hidden and attention).")
    var dropout: Float = 0.1
    @Option(
        help: """
            The validation metric the verdict follows: accuracy (masked-token accuracy, the paper's metric: time to a \
            target accuracy) or loss (cross-entropy, nats). Both are measured and printed.
            """)
    var metric: ProbeGain.Metric = ProbePlan().metric
    @Option(help: "Also write the measurements and the verdict (both metrics) as JSON to this file.")
    var json: String?

    func validate() throws {
        if probeSteps < 8 { throw ValidationError("--probe-steps must be at least 8 (got \(probeSteps))") }
        if evalSamples < 0 { throw ValidationError("--eval-samples must be non-negative") }
        if let n = trainSubset, n < 1 { throw ValidationError("--train-subset must be at least 1 (got \(n))") }
        if let w = warmup, w < 0 { throw ValidationError("--warmup must be non-negative (got \(w))") }
        if !(dropout >= 0 && dropout < 1) { throw ValidationError("--dropout must be in [0, 1) (got \(dropout))") }
        _ = try plan()
    }

    /// The probe plan from the flags.
    func plan() throws -> ProbePlan {
        func list<T>(_ flag: String, _ text: String, _ parse: (String) -> T?) throws -> [T] {
            try text.split(separator: ",", omittingEmptySubsequences: false).map { item in
                guard let v = parse(item.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--\(flag): '\(item)' is not a valid value (expected a comma-separated list)")
                }
                return v
            }
        }
        var p = ProbePlan()
        p.probeSteps = probeSteps
        p.seeds = try list("seeds", seeds) { UInt64($0) }
        p.exitLayers = try list("exit-layers", exitLayers) { Int($0) }
        p.selectFractions = try list("select-fractions", selectFractions) { Double($0) }
        p.fidelityPools = fidelityPools
        p.metric = metric
        // The layer bound is checked again against the model loaded.
        if let problem = p.validationError(numLayers: Int.max / 2) { throw ValidationError(problem) }
        return p
    }

    /// Every probe run's options apart from what the probe sets (policy, length, seed, exit, ρ).
    func template() -> TrainingOptions {
        var o = TrainingOptions()
        o.batchSize = batchSize
        o.microBatch = microBatch
        o.learningRate = lr
        o.warmupSteps = warmup ?? probeSteps * 3 / 20
        o.evalSamples = evalSamples == 0 ? nil : evalSamples
        o.checkReplicasEvery = 0
        o.scoreVocabulary = TrainingOptions.defaultScoreVocabulary
        o.siftDelay = 0
        return o
    }

    func run() throws {
        let plan = try plan()
        let job = try RankedJob.start()
        let comm = job.comm
        let say = job.say
        // The data's masks are keyed by the seed, so every seed's probe has its setup, as `sift train --seed` would.
        let inputs = TrainingInputs(config: "mini", data: data, trainSubset: trainSubset, initFrom: model, dropout: dropout)
        let template = template()
        let makeSetup = { (seed: UInt64) throws -> TrainingSetup in
            var o = template
            o.seed = seed
            return try TrainingSetup.make(inputs, options: o, ranks: comm.size)
        }
        let setup = try job.setUp { () throws -> TrainingSetup in
            let setup = try makeSetup(plan.seeds[0])
            if let problem = plan.validationError(numLayers: setup.model.config.numLayers) { throw SetupError(problem) }
            return setup
        }
        for w in setup.warnings where comm.isRoot { printError("warning: \(w)") }
        let o = template, c = setup.model.config
        say(
            "sift advise: \(model), L\(c.numLayers)/H\(c.hiddenSize)/A\(c.numHeads), \(setup.train.count) training samples; "
                + "\(comm.size) rank(s)")
        say(
            "  probe per seed: vanilla \(plan.probeSteps) and \(plan.shortSteps) steps, each configuration \(plan.shortSteps) steps; "
                + "b \(o.batchSize), lr \(o.learningRate), \(o.warmupSteps) warm-up steps, linear decay to 0; seeds "
                + plan.seeds.map(String.init).joined(separator: ", ") + "; verdict on \(plan.metric.rawValue)")
        let advice = try job.run(shared: {
            $0 is SetupError ? ExitStatus.badInput.rawValue : $0 is TrainingError ? ExitStatus.failed.rawValue : nil
        }) {
            try Advisor(first: setup, setup: makeSetup, template: o, plan: plan, communicator: comm, progress: say).run()
        }
        if comm.isRoot {
            AdviceReport(advice: advice).lines.forEach(say)
            if let json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                do { try encoder.encode(advice).write(to: URL(fileURLWithPath: json)) } catch {
                    printError("error: cannot write --json \(json): \(error.localizedDescription)")
                    comm.finalize()
                    throw ExitCode(ExitStatus.failed.rawValue)
                }
            }
        }
        comm.finalize()
    }
}
