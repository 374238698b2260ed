import Foundation
import Interop
import Kernels
import Model
import Training

/// A model read from disk: a HuggingFace-format directory, a training checkpoint file, or a
/// checkpoint directory (its newest valid checkpoint).
struct LoadedModel {
    var config: BertConfig
    var parameters: FloatBuffer
    var vocabPath: String?
    var warnings: [String]
    var description: String

    /// Loads `path`, whichever of the three forms it is.
    static func load(_ path: String) throws -> LoadedModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelSourceError(message: "model \(path) does not exist")
        }
        if !isDirectory.boolValue {
            let c = try TrainingCheckpoint.load(path: path)
            return LoadedModel(config: c.state.config, parameters: c.parameters, vocabPath: nil, warnings: [],
                               description: "checkpoint \(path) (step \(c.state.step))")
        }
        if FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent(HuggingFaceCheckpoint.configFile)) {
            let hf = try HuggingFaceCheckpoint.load(from: path)
            return LoadedModel(config: hf.config, parameters: hf.parameters, vocabPath: hf.vocabPath, warnings: hf.warnings,
                               description: "HuggingFace model \(path)")
        }
        var warnings: [String] = []
        if let c = TrainingCheckpoint.loadNewestValid(directory: path, warn: { warnings.append($0) }) {
            return LoadedModel(config: c.state.config, parameters: c.parameters, vocabPath: nil, warnings: warnings,
                               description: "checkpoint \(c.path) (step \(c.state.step))")
        }
        throw ModelSourceError(message: "\(path) holds neither a HuggingFace model (config.json) nor a valid sift checkpoint")
    }
}

struct ModelSourceError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
