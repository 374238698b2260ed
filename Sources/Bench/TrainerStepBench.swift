import Core
import Data
import Foundation
import Kernels
import Model
import Selection
import Training

/// One measured trainer step: seconds per step and the mean phase times of this rank, and with
/// profiling this rank's kernel totals over the timed steps (indexed by `KernelProfile.Kind`).
struct TrainerStepTiming {
    var seconds: Double
    var times: PhaseTimes
    var steps: Int = 0
    var kernels: [KernelProfile.Totals] = []
}

extension Bench {
    /// Times the real `Trainer` step — scoring, the selection with its loss allgather, forward and
    /// backward, the bucketed gradient allreduce and AdamW — on every rank at once, with `perRankBatch`
    /// samples backpropagated per rank (global b = perRankBatch × ranks). Mean over `plan.repeats`
    /// steps after one warm-up step (which allocates the workspaces); the slowest rank's seconds.
    /// With `profile`, `KernelProfile` records the timed steps.
    func trainerStep(
        model: BertForMaskedLM, policy: SelectionPolicy, exitLayer: Int, scorePositions: Int, reuse: Bool = false,
        scoreVocabulary: Int = 0, perRankBatch: Int, profile: Bool = false,
        denseLastLayer: Bool = false
    ) throws -> TrainerStepTiming {
        var o = plan.stepOptions(
            policy: policy, exitLayer: exitLayer, perRankBatch: perRankBatch, ranks: comm.size, reuse: reuse,
            scorePositions: scorePositions, scoreVocabulary: scoreVocabulary, denseLastLayer: denseLastLayer)
        o.learningRate = 1e-6
        o.warmupSteps = 0
        o.evalEvery = 0
        o.checkReplicasEvery = 0
        o.watchdogSeconds = 0
        o.logEvery = Int.max / 2
        o.seed = 7
        let source = SyntheticSamples(count: o.poolSize * (plan.repeats + 1), seqLen: plan.seqLen, vocab: plan.vocabSize, salt: 3)
        func run(steps: Int) throws -> TrainingResult {
            o.steps = steps
            // The synthetic data has no frequencies: the scoring vocabulary is the lowest token ids.
            let reference =
                scoreVocabulary > 0
                ? UnigramReference(counts: (0..<plan.vocabSize).map { plan.vocabSize - $0 }) : nil
            let trainer = Trainer(
                options: o, model: model, communicator: comm, train: source, validation: nil,
                vocabHash: "bench", reference: reference, output: { _ in })
            return try trainer.run()
        }
        _ = try run(steps: 1)
        comm.barrier()
        if profile { KernelProfile.setEnabled(true) }
        let summary = try run(steps: plan.repeats)
        let kernels = profile ? KernelProfile.Kind.allCases.map(KernelProfile.totals) : []
        if profile { KernelProfile.setEnabled(false) }
        let n = Double(max(1, summary.stepsTimed))
        return TrainerStepTiming(
            seconds: comm.allreduceMax(summary.elapsedSeconds / n), times: summary.phaseTimes.mean(over: summary.stepsTimed),
            steps: summary.stepsTimed, kernels: kernels)
    }
}
