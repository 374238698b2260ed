import ArgumentParser
import Core
import Interop
import Model
import Setup

/// Loads a model (any form `LoadedModel` reads), prints its warnings, and writes it normalised as a
/// HuggingFace directory (shared by `export` and `import`).
enum ModelDirectoryCopy {
    static func run(from source: String, to destination: String, overwrite: Bool) throws {
        let loaded = try LoadedModel.load(source)
        for warning in loaded.warnings { StandardError.line("warning: \(warning)") }
        try HuggingFaceCheckpoint.export(config: loaded.config, layout: ParameterLayout(config: loaded.config),
                                         parameters: loaded.parameters, vocabPath: loaded.vocabPath,
                                         to: destination, overwrite: overwrite)
        print("wrote \(destination) (\(loaded.config.numLayers) layers, hidden \(loaded.config.hiddenSize), vocab \(loaded.config.vocabSize))"
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

    @Flag(help: "Replace the output directory if it exists.")
    var overwrite = false

    func run() throws {
        try ModelDirectoryCopy.run(from: model, to: hf, overwrite: overwrite)
    }
}
