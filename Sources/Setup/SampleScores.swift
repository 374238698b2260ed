import Data
import Foundation
import Model
import Training

/// `sift score`'s result: each pre-masked sample's losses at an exit layer and at the last layer, scored by
/// the one `Scorer`, and optionally the MLM logits at its predicted positions.
public struct SampleScores {
    /// What was loaded ("checkpoint DIR/step-00000100.ckpt (step 100)").
    public var modelDescription: String
    public var config: BertConfig
    public var exitLayer: Int
    /// Per sample, in file order: at `exitLayer`, and at the last layer.
    public var atExit: [SampleLoss]
    public var atEnd: [SampleLoss]
    /// JSON Lines, one per predicted position: `{"index", "position", "logits": [V]}` at the exit layer (empty
    /// unless asked for).
    public var logitsLines: [String]
    /// Problems met loading the model that did not stop it.
    public var warnings: [String]

    /// Scores the JSON Lines samples of `file` with the model at `path` (a HuggingFace directory, a checkpoint
    /// file or directory), `batchSize` samples per forward.
    /// - Parameter exitLayer: 1…L (nil: L, the exact loss).
    /// - Throws: `SetupError` for samples or an exit layer that do not fit the model; the loaders' errors.
    public static func compute(
        model path: String, samples file: String, exitLayer: Int?, batchSize: Int,
        withLogits: Bool
    ) throws -> SampleScores {
        let loaded = try LoadedModel.load(path)
        let config = loaded.config
        let exit = exitLayer ?? config.numLayers
        guard exit <= config.numLayers else { throw SetupError("--exit-layer \(exit) is beyond the model's \(config.numLayers) layers") }
        let samples = try PremaskedSamples(path: file, vocabSize: config.vocabSize, padId: Int32(config.padTokenId))
        guard samples.seqLen <= config.maxPositions else {
            throw SetupError("samples of \(samples.seqLen) tokens exceed the model's \(config.maxPositions) positions")
        }
        let bert = BertForMaskedLM(config: config, parameters: loaded.parameters)
        let all = (0..<samples.count).map { (index: $0, epoch: 0) }
        let scorer = Scorer(model: bert, path: ScoringPath(exitLayer: exit), microBatch: batchSize)
        scorer.validatesBatches = true
        var atExit: [SampleLoss] = [], logitsLines: [String] = [], times = PhaseTimes()
        do {
            try scorer.score(all, from: samples, seed: 0, counter: 0, times: &times) { first, batch, losses, _ in
                atExit += losses
                guard withLogits else { return }
                let (positions, values) = bert.maskedLogits(batch, exitLayer: exit)
                for (row, flat) in positions.enumerated() {
                    let numbers = (0..<config.vocabSize).map { String(format: "%.7g", values[row * config.vocabSize + $0]) }
                    logitsLines.append(
                        "{\"index\": \(first + flat / batch.seqLen), \"position\": \(flat % batch.seqLen), "
                            + "\"logits\": [\(numbers.joined(separator: ","))]}\n")
                }
            }
        } catch let error as BatchError { throw SetupError(error.description) }
        let atEnd =
            exit == config.numLayers
            ? atExit
            : try Scorer(model: bert, path: .exact(numLayers: config.numLayers), microBatch: batchSize).sampleLosses(all, from: samples)
        return SampleScores(
            modelDescription: loaded.description, config: config, exitLayer: exit, atExit: atExit, atEnd: atEnd,
            logitsLines: logitsLines, warnings: loaded.warnings)
    }
}
