import Communication
import Core
import Data
import Foundation
import Kernels
import Model
import Selection
import Setup
import Training

/// Measures, from a warm start and a dataset, whether loss-based selection pays for continuing the run:
/// the exit layers' fidelity on real pools, and per seed an equal-schedule probe — vanilla for N and for
/// 3N/4 steps, each selecting configuration for 3N/4 steps, every run from the same weights with its own
/// schedule — whose final validation losses and accuracies give the gain per backpropagated sample on each
/// metric (`ProbeGain`) and whose step times give the overhead. Every rank calls `run` together.
public final class Advisor {
    /// The run's setup for a seed: the data's masks (training and validation) are keyed by the seed, as in `sift train`.
    let makeSetup: (UInt64) throws -> TrainingSetup
    /// The setup of the current seed.
    var setup: TrainingSetup
    let template: TrainingOptions
    let plan: ProbePlan
    let communicator: any Collectives
    let progress: (String) -> Void
    /// The warm start's weights; every run trains a copy.
    let initial: FloatBuffer

    /// - Parameters:
    ///   - setup: the warm start (`--init-from`), training and validation data masked for a seed, and the unigram
    ///     reference; called for every seed after the first.
    ///   - template: every run's options (batch, learning rate, warm-up, evaluation samples, selection flags
    ///     other than the policy, the exit layer and ρ, which the probe sets).
    ///   - progress: rank 0's lines as runs finish.
    ///   - first: `setup(plan.seeds[0])`, already built (and checked on every rank) by the caller.
    public init(
        first: TrainingSetup, setup: @escaping (UInt64) throws -> TrainingSetup, template: TrainingOptions,
        plan: ProbePlan, communicator: any Collectives, progress: @escaping (String) -> Void
    ) {
        makeSetup = setup
        self.setup = first
        self.template = template
        self.plan = plan
        self.communicator = communicator
        self.progress = progress
        initial = FloatBuffer(count: self.setup.model.parameters.count)
        initial.copy(from: self.setup.model.parameters)
    }

    /// Runs the fidelity measurement and the probes, and concludes.
    /// - Throws: `SetupError` when the data has no validation split; the trainer's errors.
    public func run() throws -> SelectionAdvice {
        guard setup.validation != nil else {
            throw SetupError("the dataset has no validation split: the probe compares final validation losses")
        }
        let warm = try warmStart()
        progress(AdviceReport.warmStartLine(warm))
        let fidelity = try measureFidelity()
        AdviceReport.fidelityLines(fidelity).forEach(progress)
        progress("")
        let runs = 2 + plan.exitLayers.count * plan.selectFractions.count
        let (cpu0, wall0) = (MachineProbe.cpuSeconds(), Date())
        var vanilla: [SelectionAdvice.VanillaRuns] = []
        var selecting: [[ProbeRun]] = []  // [seed][configuration]
        for (s, seed) in plan.seeds.enumerated() {
            if s > 0 { setup = try makeSetup(seed) }
            let done = s * runs
            let full = try probe(policy: .vanilla, steps: plan.probeSteps, seed: seed, label: "\(done + 1)/\(runs * plan.seeds.count)")
            let short = try probe(policy: .vanilla, steps: plan.shortSteps, seed: seed, label: "\(done + 2)/\(runs * plan.seeds.count)")
            vanilla.append(
                SelectionAdvice.VanillaRuns(
                    seed: seed, fullLoss: full.loss, shortLoss: short.loss, fullAccuracy: full.accuracy,
                    shortAccuracy: short.accuracy, secondsPerStep: ProbeRun.secondsPerStep([full, short])))
            var row: [ProbeRun] = []
            for (c, (exit, rho)) in configurations.enumerated() {
                row.append(
                    try probe(
                        policy: .sift, steps: plan.shortSteps, seed: seed, exitLayer: exit, selectFraction: rho,
                        label: "\(done + 3 + c)/\(runs * plan.seeds.count)"))
            }
            selecting.append(row)
        }
        // The probe runs' CPU share; evaluation waits are short next to training, so they are counted too.
        let cpuShare = -communicator.allreduceMax(-(MachineProbe.cpuSeconds() - cpu0) / max(1e-9, Date().timeIntervalSince(wall0)))
        let vanillaSeconds = vanilla.map(\.secondsPerStep).reduce(0, +) / Double(vanilla.count)
        let candidates = configurations.enumerated().map { c, configuration in
            candidate(configuration, runs: selecting.map { $0[c] }, vanilla: vanilla, vanillaSeconds: vanillaSeconds)
        }
        let (verdict, recommended) = SelectionAdvice.conclude(
            candidates, metric: plan.metric,
            timingsDisturbed: cpuShare < SelectionAdvice.minimumCPUShare)
        let hintFrom = recommended.map { candidates[$0].exitLayer } ?? plan.exitLayers.min()!
        return SelectionAdvice(
            probeSteps: plan.probeSteps, shortSteps: plan.shortSteps, batchSize: template.batchSize,
            ranks: communicator.size, warmStart: warm, fidelity: fidelity, vanilla: vanilla, candidates: candidates,
            metric: plan.metric, recommended: recommended, verdict: verdict,
            deeperExitHint: SelectionAdvice.deeperExit(than: hintFrom, fidelity: fidelity), cpuShare: cpuShare)
    }

    /// Exit layer × selection fraction, in the order probed.
    var configurations: [(Int, Double)] {
        plan.exitLayers.flatMap { e in plan.selectFractions.map { (e, $0) } }
    }

    /// One configuration's gains, ratios and verdicts on both metrics from its runs (one per seed) and vanilla's.
    func candidate(
        _ configuration: (Int, Double), runs: [ProbeRun], vanilla: [SelectionAdvice.VanillaRuns],
        vanillaSeconds: Double
    ) -> SelectionAdvice.Candidate {
        let seconds = ProbeRun.secondsPerStep(runs)
        let overhead = seconds / vanillaSeconds - 1
        func predict(_ metric: ProbeGain.Metric, _ values: [Double]) -> SelectionAdvice.Prediction {
            SelectionAdvice.Prediction(
                metric, selecting: values, vanilla: vanilla.map { $0.values(metric)! }, short: plan.shortSteps,
                full: plan.probeSteps, overhead: overhead)
        }
        let losses = runs.map(\.loss), accuracies = runs.map(\.accuracy)
        return SelectionAdvice.Candidate(
            exitLayer: configuration.0, selectFraction: configuration.1, secondsPerStep: seconds,
            overhead: overhead, losses: losses, loss: predict(.loss, losses), accuracies: accuracies,
            accuracy: predict(.accuracy, accuracies), selectionExchange: runs.first?.exchange)
    }

    /// The options of one probe run: the template with its policy, length and seed, selecting from step 0.
    func options(policy: SelectionPolicy, steps: Int, seed: UInt64, exitLayer: Int, selectFraction: Double) -> TrainingOptions {
        var o = template
        o.policy = policy
        o.steps = steps
        o.seed = seed
        o.exitLayer = exitLayer
        o.selectFraction = selectFraction
        o.siftDelay = 0
        o.evalEvery = 0
        o.fidelityEvery = 0
        o.metricsPath = nil
        o.selectionLogPath = nil
        o.checkpointDirectory = nil
        o.resume = false
        o.logEvery = Int.max / 2
        return o
    }

    /// Trains a copy of the warm start: its final validation loss and accuracy and steady-state step time.
    func probe(
        policy: SelectionPolicy, steps: Int, seed: UInt64, exitLayer: Int? = nil, selectFraction: Double? = nil,
        label: String
    ) throws -> ProbeRun {
        let o = options(
            policy: policy, steps: steps, seed: seed, exitLayer: exitLayer ?? template.exitLayer,
            selectFraction: selectFraction ?? template.selectFraction)
        let trainer = trainer(o)
        let summary = try trainer.run()
        let final = summary.finalEvaluation!
        let what = policy.selects ? "sift (exit \(o.exitLayer), ρ \(o.selectFraction))" : "vanilla"
        progress(
            String(
                format: "  run %@: %@, %d steps, seed %llu: validation loss %.4f, accuracy %.2f%%, %.3f s/step", label,
                what, steps, seed, final.loss, 100 * final.accuracy, summary.steadySecondsPerStep))
        return ProbeRun(
            loss: final.loss, accuracy: final.accuracy, steadySeconds: summary.elapsedSeconds - summary.firstStepSeconds,
            steadySteps: summary.stepsTimed - 1, exchange: trainer.options.selectionExchange)
    }

    /// A trainer of a fresh copy of the warm start.
    func trainer(_ o: TrainingOptions) -> Trainer {
        let weights = FloatBuffer(count: initial.count)
        weights.copy(from: initial)
        let model = BertForMaskedLM(config: setup.model.config, parameters: weights)
        return Trainer(
            options: o, model: model, communicator: communicator, train: setup.train, validation: setup.validation,
            vocabHash: setup.vocabHash, reference: setup.reference, output: { _ in })
    }

    /// The warm start's validation loss and accuracy.
    func warmStart() throws -> SelectionAdvice.WarmStart {
        let e = try trainer(
            options(
                policy: .vanilla, steps: 1, seed: plan.seeds[0], exitLayer: template.exitLayer,
                selectFraction: template.selectFraction)
        ).measureValidation()!
        return SelectionAdvice.WarmStart(loss: e.loss, accuracy: e.accuracy, maskedTokens: e.maskedTokens, learnedShare: e.learnedShare)
    }

    /// The fidelity of every exit layer up to the deepest probed one plus two (not the last), against the
    /// exact loss, scored as the probe's selecting runs score (scoring vocabulary, dropout with reuse).
    func measureFidelity() throws -> [SelectionAdvice.Fidelity] {
        let model = setup.model, layers = model.config.numLayers
        let deepest = min(layers - 1, plan.exitLayers.max()! + 2)
        guard deepest >= 1 else { return [] }
        let o = options(policy: .sift, steps: 1, seed: plan.seeds[0], exitLayer: 1, selectFraction: plan.selectFractions[0])
        let scorers = (1...deepest).map { exit -> Scorer in
            var path = o.scoringPath(numLayers: layers)!
            path.exitLayer = exit
            return Scorer(model: model, path: path, reference: setup.reference, microBatch: o.microBatch)
        }
        let exact = Scorer(model: model, path: .exact(numLayers: layers), microBatch: o.microBatch)
        let agreements = try PoolFidelity.measure(
            scorers: scorers, exact: exact, samples: setup.train, pools: plan.fidelityPools,
            poolSize: o.poolSize, keep: o.batchSize, seed: o.seed, communicator: communicator)
        return agreements.enumerated().map { SelectionAdvice.Fidelity(exitLayer: $0 + 1, spearman: $1.spearman, topOverlap: $1.topOverlap) }
    }
}
