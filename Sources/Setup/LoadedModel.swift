import Foundation
import Interop
import Kernels
import Model
import Training

/// A model read from disk: a HuggingFace-format directory, a training checkpoint file, or a
/// checkpoint directory (its newest valid checkpoint). `sift export`, `import`, `score` and
/// `train --init-from` all load through it.
public struct LoadedModel {
    public var config: BertConfig
    public var parameters: FloatBuffer
    /// The vocab.txt next to a HuggingFace model (checkpoints do not carry one).
    public var vocabPath: String?
    /// Problems that did not stop loading (skipped corrupt checkpoints, freshly initialised tensors).
    public var warnings: [String]
    /// What was loaded, for messages ("checkpoint DIR/step-00000100.ckpt (step 100)").
    public var description: String

    /// Loads `path`, whichever of the three forms it is.
    /// - Throws: `ModelSourceError` when `path` is missing or holds no model, or the loader's error.
    public static func load(_ path: String) throws -> LoadedModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelSourceError(message: "model \(path) does not exist")
        }
        if !isDirectory.boolValue {
            let c = try TrainingCheckpoint.load(path: path)
            return LoadedModel(
                config: c.state.config, parameters: c.parameters, vocabPath: nil, warnings: [],
                description: "checkpoint \(path) (step \(c.state.step))")
        }
        if FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent(HuggingFaceCheckpoint.configFile)) {
            let hf = try HuggingFaceCheckpoint.load(from: path)
            return LoadedModel(
                config: hf.config, parameters: hf.parameters, vocabPath: hf.vocabPath, warnings: hf.warnings,
                description: "HuggingFace model \(path)")
        }
        var warnings: [String] = []
        if let c = TrainingCheckpoint.loadNewestValid(directory: path, warn: { warnings.append($0) }) {
            return LoadedModel(
                config: c.state.config, parameters: c.parameters, vocabPath: nil, warnings: warnings,
                description: "checkpoint \(c.path) (step \(c.state.step))")
        }
        throw ModelSourceError(message: "\(path) holds neither a HuggingFace model (config.json) nor a valid sift checkpoint")
    }
}
