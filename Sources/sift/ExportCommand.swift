import ArgumentParser
import Foundation
import Interop
import Model

/// Writes standard error lines (warnings and one-line errors).
enum StandardError {
    static func line(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// Loads a model directory, prints its warnings, and writes it normalised as a HuggingFace directory
/// (shared by `export` and `import`: a sift model directory currently is a HuggingFace directory).
enum ModelDirectoryCopy {
    static func run(from source: String, to destination: String, overwrite: Bool) throws {
        do {
            let loaded = try HuggingFaceCheckpoint.load(from: source)
            for warning in loaded.warnings { StandardError.line("warning: \(warning)") }
            try HuggingFaceCheckpoint.export(config: loaded.config, layout: ParameterLayout(config: loaded.config),
                                             parameters: loaded.parameters, vocabPath: loaded.vocabPath,
                                             to: destination, overwrite: overwrite)
            print("wrote \(destination) (\(loaded.config.numLayers) layers, hidden \(loaded.config.hiddenSize), vocab \(loaded.config.vocabSize))")
        } catch {
            StandardError.line("error: \(error)")
            throw ExitCode(1)
        }
    }
}

/// `sift export --model DIR --hf OUT`: write a model as a HuggingFace BertForMaskedLM directory.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a sift model directory as a HuggingFace BertForMaskedLM directory (config.json, model.safetensors, vocab.txt).")

    @Option(name: .customLong("model"), help: "sift model directory to export.")
    var model: String

    @Option(name: .customLong("hf"), help: "Output HuggingFace directory (must not exist unless --overwrite).")
    var hf: String

    @Flag(help: "Replace the output directory if it exists.")
    var overwrite = false

    func run() throws {
        try ModelDirectoryCopy.run(from: model, to: hf, overwrite: overwrite)
    }
}
