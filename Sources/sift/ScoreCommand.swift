import ArgumentParser
import Foundation
import Setup

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
        var path = input
        var tempPath: String?
        if path == nil {
            // The samples are read from a file; standard input goes through a private temporary file.
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard data.contains(where: { !Set(" \t\r\n".utf8).contains($0) }) else {
                throw CommandFailure(
                    "no samples on standard input "
                        + "(expected JSON Lines: {\"input_ids\": [...], \"labels\": [...]} per line)", status: .badInput)
            }
            let t = NSTemporaryDirectory() + "sift-score-\(getpid()).jsonl"
            try data.write(to: URL(fileURLWithPath: t))
            path = t
            tempPath = t
        }
        defer { if let t = tempPath { unlink(t) } }
        if let logits, !FileManager.default.createFile(atPath: logits, contents: nil) {
            throw CommandFailure("cannot write --logits file \(logits)", status: .badInput)
        }
        let scores: SampleScores
        do {
            scores = try SampleScores.compute(
                model: model, samples: path!, exitLayer: exitLayer, batchSize: batchSize,
                withLogits: logits != nil)
        } catch let error as SetupError { throw CommandFailure(error.description, status: .badInput) }
        scores.warnings.forEach { printError("warning: \($0)") }
        if let logits, !FileManager.default.createFile(atPath: logits, contents: Data(scores.logitsLines.joined().utf8)) {
            throw CommandFailure("cannot write --logits file \(logits)")
        }
        render(scores)
    }

    /// The table (or JSON Lines) of each sample's losses.
    private func render(_ scores: SampleScores) {
        let c = scores.config
        if !json {
            print("model: \(scores.modelDescription), L\(c.numLayers)/H\(c.hiddenSize); exit layer \(scores.exitLayer)")
            print(String(format: "%8@  %12@  %12@  %6@", "index", "exit_loss", "final_loss", "masked"))
        }
        for (index, (atExit, atEnd)) in zip(scores.atExit, scores.atEnd).enumerated() {
            if json {
                print(
                    String(
                        format: "{\"index\": %d, \"exit_layer\": %d, \"exit_loss\": %.7g, \"final_loss\": %.7g, "
                            + "\"masked_tokens\": %d}", index, scores.exitLayer, atExit.meanLoss, atEnd.meanLoss, atEnd.maskedTokens))
            } else {
                print(String(format: "%8d  %12.6f  %12.6f  %6d", index, atExit.meanLoss, atEnd.meanLoss, atEnd.maskedTokens))
            }
        }
    }
}
