import ArgumentParser
import Core
import Interop
import Model
import Setup

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
