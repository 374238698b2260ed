import Core
import Data
import Foundation
import Model
import Selection
import Setup
import Training

extension Bench {
    /// For every scoring path of the step section (exit layer × scored positions × training dropout on or
    /// off, i.e. `--reuse-scoring-forward`), the mean over `source.pools` pools of the Spearman correlation
    /// of the path's losses with the exact loss (last layer, all masked positions, no dropout: what
    /// `sift train --fidelity-every` compares with) and the overlap of their top-b sets. Pools are split
    /// over the ranks; every rank returns the same rows. `steps`: the step section's rows, to print each
    /// path's measured overhead beside its fidelity when the model's size was measured there.
    func measureFidelity(_ source: FidelitySource, steps: [StepRow]?) throws -> [FidelityRow] {
        let model = source.model, config = model.config
        let b = TrainingOptions().batchSize
        let poolSize = Int((Double(b) / plan.selectFraction).rounded())
        let chunk = TrainingOptions().microBatch
        say(
            "\nselection fidelity — \(source.description); \(source.pools) pools of \(poolSize) candidates (b = \(b), "
                + "ρ = \(plan.selectFraction)), epoch-0 masks")

        var paths: [ScoringPath] = []
        for exit in plan.exits(for: config) {
            for k in plan.scorePositions {
                for reuse in plan.reuse {
                    for classes in plan.scoreVocabularies where classes == 0 || source.reference != nil {
                        paths.append(ScoringPath(exitLayer: exit, positions: k, classes: classes, reusesForward: reuse))
                    }
                }
            }
        }
        let scorers = paths.map { Scorer(model: model, path: $0, reference: source.reference, microBatch: chunk) }
        let exactScorer = Scorer(model: model, path: .exact(numLayers: config.numLayers), microBatch: chunk)
        let agreements = try PoolFidelity.measure(
            scorers: scorers, exact: exactScorer, samples: source.samples, pools: source.pools,
            poolSize: poolSize, keep: b, seed: 7, communicator: comm)

        // The step rows of the model's size (same layers and width), if the step section measured it.
        let size = plan.names.first { name in
            BertConfig.named(name, vocabSize: plan.vocabSize).map { $0.numLayers == config.numLayers && $0.hiddenSize == config.hiddenSize }
                ?? false
        }
        var table = TextTable(
            [
                "exit", "scored positions", "scored classes", "dropout (reuse)", "Spearman",
                "top-b "
                    + "overlap", "step overhead"
            ],
            alignments: [.right, .right, .right, .left, .right, .right, .right])
        var rows: [FidelityRow] = []
        for (i, path) in paths.enumerated() {
            let spearman = agreements[i].spearman, overlap = agreements[i].topOverlap
            let overhead = steps?.first { row in
                row.config == size && row.exitLayer == path.exitLayer && (row.scorePositions ?? 0) == path.positions
                    && (row.reuseScoringForward ?? false) == path.reusesForward && (row.scoreVocabulary ?? 0) == path.classes
            }?.overhead
            rows.append(
                FidelityRow(
                    exitLayer: path.exitLayer, scorePositions: path.positions > 0 ? path.positions : nil,
                    reuseScoringForward: path.reusesForward, scoreVocabulary: path.classes > 0 ? path.classes : nil, pools: source.pools,
                    spearman: spearman,
                    topOverlap: overlap, overhead: overhead, overheadConfig: overhead == nil ? nil : size))
            let isDefault =
                path.exitLayer == TrainingOptions().exitLayer && path.positions == TrainingOptions().scorePositions
                && path.reusesForward == TrainingOptions().reuseScoringForward && path.classes == TrainingOptions.defaultScoreVocabulary
            table.add([
                "\(path.exitLayer)",
                path.positions > 0
                    ? "≤ "
                        + "\(path.positions)" : "all", path.classes > 0 ? "\(path.classes)" : "all",
                (path.reusesForward ? "on" : "off") + (isDefault ? "  ← sift train's default" : ""),
                fmt(spearman, 3), fmt(overlap, 3), signedPct(overhead)
            ])
        }
        say(table.render())
        say("  Spearman: rank correlation of the path's losses with the exact loss over each pool; top-b overlap: share of the")
        say("  path's top b that is in the exact top b (the greedy rule's choice). Exact: last layer, every masked position, no")
        say("  dropout. dropout on: scored with the training forward's dropout, as --reuse-scoring-forward scores.")
        say(
            size == nil || steps == nil
                ? "  step overhead: not measured for this model's size in this run (add it to --configs and the step section)"
                : "  step overhead: the SIFT step over vanilla for \(size!) in the step table above (synthetic data, this run).")
        return rows
    }
}
