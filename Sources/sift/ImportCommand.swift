import ArgumentParser
import Interop

/// `sift import --hf DIR --out MODELDIR`: validate a HuggingFace BERT directory (e.g. written by
/// transformers) and write it as a normalised sift model directory (BertForMaskedLM names, fp32, tied).
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Validate a HuggingFace BERT directory and write it as a sift model directory.")

    @Option(name: .customLong("hf"), help: "HuggingFace directory with config.json and model.safetensors.")
    var hf: String

    @Option(name: .customLong("out"), help: "Output sift model directory (must not exist unless --overwrite).")
    var out: String

    @Flag(help: "Replace the output directory if it holds a model sift wrote (its .sift-export marker); anything else is refused.")
    var overwrite = false

    func run() throws {
        try ModelDirectoryCopy.run(from: hf, to: out, overwrite: overwrite)
    }
}
