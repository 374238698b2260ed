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
