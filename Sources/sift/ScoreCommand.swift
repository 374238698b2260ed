import ArgumentParser
import Data
import Foundation
import Interop
import Model
import Setup
import Training

/// `sift score`: per-sample MLM losses at an exit layer and at the last layer, to inspect what SIFT
/// would select and to cross-check the model against other implementations.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Print each sample's loss at an exit layer and at the last layer.",
        discussion: """
        Input is JSON Lines, one sample per line: {"input_ids": [...], "labels": [...]} with optional \
        token_type_ids and attention_mask; labels are -100 where nothing is predicted (HuggingFace's \
        convention). A sample's loss is the mean cross-entropy (nats) over its predicted tokens.
        """)

    @Option(help: "Model: a HuggingFace-format directory, a checkpoint file, or a checkpoint directory.")
    var model: String
    @Option(help: "Encoder layer (1…L) for the approximate loss (default: L, the exact loss).")
    var exitLayer: Int?
    @Flag(help: "One JSON object per sample instead of a table.")
    var json = false
    @Option(help: "Also write the MLM logits at every predicted position (at the exit layer) to this JSON Lines file.")
    var logits: String?
    @Option(help: "Samples per forward pass.")
    var batchSize: Int = 32
    @Argument(help: "JSON Lines file of samples (standard input if omitted).")
    var input: String?

    func validate() throws {
        if let e = exitLayer, e < 1 { throw ValidationError("--exit-layer must be at least 1 (got \(e))") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        let loaded = try LoadedModel.load(model)
        for w in loaded.warnings { printError("warning: \(w)") }
        let config = loaded.config
        let exit = exitLayer ?? config.numLayers
        guard exit <= config.numLayers else {
            throw CommandFailure("--exit-layer \(exit) is beyond the model's \(config.numLayers) layers", code: 2)
        }
        var path = input
        var tempPath: String?
        if path == nil {
            // PremaskedSamples reads files; standard input goes through a private temporary file.
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard data.contains(where: { !Set(" \t\r\n".utf8).contains($0) }) else {
                throw CommandFailure("no samples on standard input (expected JSON Lines: {\"input_ids\": [...], \"labels\": [...]} per line)", code: 2)
            }
            let t = NSTemporaryDirectory() + "sift-score-\(getpid()).jsonl"
            try data.write(to: URL(fileURLWithPath: t))
            path = t
            tempPath = t
        }
        defer { if let t = tempPath { unlink(t) } }
        let samples = try PremaskedSamples(path: path!, vocabSize: config.vocabSize, padId: Int32(config.padTokenId))
        guard samples.seqLen <= config.maxPositions else {
            throw CommandFailure("samples of \(samples.seqLen) tokens exceed the model's \(config.maxPositions) positions", code: 2)
        }
        if let logits, !FileManager.default.createFile(atPath: logits, contents: nil) {
            throw CommandFailure("cannot write --logits file \(logits)")
        }
        let bert = BertForMaskedLM(config: config, parameters: loaded.parameters)
        let all = (0..<samples.count).map { (index: $0, epoch: 0) }
        let atExitScorer = Scorer(model: bert, path: ScoringPath(exitLayer: exit), microBatch: batchSize)
        atExitScorer.validatesBatches = true
        var logitsLines: [String] = []
        var atExit: [SampleLoss] = [], times = PhaseTimes()
        do {
            try atExitScorer.score(all, from: samples, seed: 0, counter: 0, times: &times) { first, batch, losses, _ in
                atExit += losses
                guard logits != nil else { return }
                let (positions, values) = bert.maskedLogits(batch, exitLayer: exit)
                for (row, flat) in positions.enumerated() {
                    let numbers = (0..<config.vocabSize).map { String(format: "%.7g", values[row * config.vocabSize + $0]) }
                    logitsLines.append("{\"index\": \(first + flat / batch.seqLen), \"position\": \(flat % batch.seqLen), "
                                       + "\"logits\": [\(numbers.joined(separator: ","))]}\n")
                }
            }
        } catch { throw CommandFailure("\(error)", code: 2) }
        let atEnd = exit == config.numLayers ? atExit
            : try Scorer(model: bert, path: .exact(numLayers: config.numLayers), microBatch: batchSize)
                .sampleLosses(all, from: samples)
        if let logits {
            guard FileManager.default.createFile(atPath: logits, contents: Data(logitsLines.joined().utf8)) else {
                throw CommandFailure("cannot write --logits file \(logits)")
            }
        }
        if !json {
            print("model: \(loaded.description), L\(config.numLayers)/H\(config.hiddenSize); exit layer \(exit)")
            print(String(format: "%8@  %12@  %12@  %6@", "index", "exit_loss", "final_loss", "masked"))
        }
        for index in 0..<samples.count {
            if json {
                print(String(format: "{\"index\": %d, \"exit_layer\": %d, \"exit_loss\": %.7g, \"final_loss\": %.7g, \"masked_tokens\": %d}",
                             index, exit, atExit[index].meanLoss, atEnd[index].meanLoss, atEnd[index].maskedTokens))
            } else {
                print(String(format: "%8d  %12.6f  %12.6f  %6d", index, atExit[index].meanLoss, atEnd[index].meanLoss,
                             atEnd[index].maskedTokens))
            }
        }
    }
}
