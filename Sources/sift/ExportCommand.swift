import ArgumentParser
import Core
import Interop
import Model
import Setup

/// Loads a model (any form `LoadedModel` reads), prints its warnings, and writes it normalised as a
/// HuggingFace directory (shared by `export` and `import`).
enum ModelDirectoryCopy {
    static func run(from source: String, to destination: String, overwrite: Bool) throws {
        // Refused before the model is read: only a directory sift exported is ever replaced.
        if overwrite, let reason = HuggingFaceCheckpoint.replacementProblem(destination) {
            throw CommandFailure(HuggingFaceError.notReplaceable(path: destination, reason: reason).description, status: .badInput)
        }
        let loaded = try LoadedModel.load(source)
        for warning in loaded.warnings { StandardError.line("warning: \(warning)") }
        try HuggingFaceCheckpoint.export(
            config: loaded.config, layout: ParameterLayout(config: loaded.config),
            parameters: loaded.parameters, vocabPath: loaded.vocabPath,
            to: destination, overwrite: overwrite)
        let c = loaded.config
        print(
            "wrote \(destination) (\(c.numLayers) layers, hidden \(c.hiddenSize), vocab \(c.vocabSize))"
                + (loaded.vocabPath == nil ? "; no vocab.txt (a checkpoint does not carry one)" : ""))
    }
}

/// `sift export --model M --hf OUT`: write a model as a HuggingFace BertForMaskedLM directory.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model as a HuggingFace BertForMaskedLM directory (config.json, model.safetensors, vocab.txt).")

    @Option(name: .customLong("model"), help: "Model: a HuggingFace-format directory, a checkpoint file, or a checkpoint directory.")
    var model: String

    @Option(name: .customLong("hf"), help: "Output HuggingFace directory (must not exist unless --overwrite).")
    var hf: String

    @Flag(help: "Replace the output directory if it holds a model sift exported (its .sift-export marker); anything else is refused.")
    var overwrite = false

    func run() throws {
        try ModelDirectoryCopy.run(from: model, to: hf, overwrite: overwrite)
    }
}
