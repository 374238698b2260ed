import Core
import Foundation
import Kernels
import Model

/// Reading and writing HuggingFace `BertForMaskedLM` model directories
/// (`config.json` + `model.safetensors` + `vocab.txt`), which is also sift's model-directory format.
///
/// The flat parameter buffer uses `ParameterLayout`, whose tensor names are HuggingFace names and
/// whose matrices are `[out, in]` like `nn.Linear`, so conversion is a rename-free copy.
public enum HuggingFaceCheckpoint {
    public static let configFile = "config.json"
    public static let weightsFile = "model.safetensors"
    public static let vocabFile = "vocab.txt"
    /// The tied MLM decoder weight: equal to the word embeddings, never written (as `save_pretrained`
    /// drops it, together with `cls.predictions.decoder.bias`, which aliases `cls.predictions.bias`).
    public static let decoderWeightName = "cls.predictions.decoder.weight"
    public static let decoderBiasName = "cls.predictions.decoder.bias"
    /// The marker every export writes: `--overwrite` replaces only a directory that holds it, so it can
    /// never delete a checkpoint directory, a dataset or a folder sift did not write.
    public static let markerFile = ".sift-export"
    /// The marker's contents: which tool wrote the directory, and the marker's format version.
    static let markerJSON = #"{"tool": "sift", "kind": "huggingface-bert-mlm", "version": 1}"# + "\n"

    /// Why the existing path `dir` may not be replaced by an export, or nil when it may: it does not
    /// exist, is an empty directory, or holds sift's export marker. A directory that holds checkpoints,
    /// a dataset, a model without the marker (an export from before the marker, or another tool's) or
    /// anything else is refused: only the user may delete it.
    public static func replacementProblem(_ dir: String) -> String? {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: dir, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else { return "is a file, not a model directory" }
        guard let names = try? fm.contentsOfDirectory(atPath: dir) else { return "cannot be listed" }
        if names.isEmpty || names.contains(markerFile) { return nil }
        if names.contains(where: { $0.hasPrefix("step-") && $0.hasSuffix(".ckpt") }) {
            return "holds sift training checkpoints (step-*.ckpt), not an exported model"
        }
        if names.contains("manifest.json") { return "is a sift dataset (manifest.json), not an exported model" }
        if names.contains(configFile) || names.contains(weightsFile) {
            return "holds a model without sift's \(markerFile) marker (another tool's, or an export from before "
                + "the marker); delete it by hand to replace it"
        }
        return "is not a model sift exported (no \(markerFile) marker); delete it by hand to replace it"
    }

    /// Writes a HuggingFace directory at `dir`: `config.json`, `model.safetensors` with every layout
    /// tensor under its HF name (Float32, tied decoder omitted) and a copy of `vocabPath` as `vocab.txt`.
    ///
    /// Everything is written to a temporary sibling directory first and renamed into place, so a
    /// failure leaves nothing half-written. An existing `dir` is replaced only if `overwrite` is true
    /// and `replacementProblem` finds none (it is empty or holds the marker, written into every export).
    public static func export(
        config: BertConfig, layout: ParameterLayout, parameters: FloatBuffer,
        vocabPath: String?, to dir: String, overwrite: Bool = false
    ) throws {
        guard layout.config == config else { throw HuggingFaceError.layoutMismatch }
        guard parameters.count == layout.totalCount else {
            throw HuggingFaceError.parameterCountMismatch(expected: layout.totalCount, actual: parameters.count)
        }
        if let problem = config.validationError() { throw HuggingFaceError.invalidConfig(path: dir, reason: problem) }
        let fm = FileManager.default
        let target = URL(fileURLWithPath: dir).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        let exists = fm.fileExists(atPath: target, isDirectory: &isDirectory)
        if exists && !overwrite { throw HuggingFaceError.destinationExists(path: target) }
        if exists, let reason = replacementProblem(target) { throw HuggingFaceError.notReplaceable(path: target, reason: reason) }
        if let vocabPath, !fm.fileExists(atPath: vocabPath) { throw HuggingFaceError.missingFile(path: vocabPath) }

        let staging = DurableFile.temporarySibling(of: target, tag: "export")
        do {
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            throw HuggingFaceError.io(path: staging, reason: "cannot create directory: \(error.localizedDescription)")
        }
        do {
            let configData = try HuggingFaceConfig.json(for: config)
            try DurableFile.write(to: staging + "/" + configFile) { file in
                try configData.withUnsafeBytes { try file.write($0.baseAddress!, count: $0.count) }
            }
            let tensors = layout.tensors.map {
                SafetensorsWriter.Tensor(
                    name: $0.name, shape: $0.shape,
                    data: UnsafePointer(parameters.pointer + $0.offset), count: $0.count)
            }
            try SafetensorsWriter.write(tensors, metadata: ["format": "pt"], to: staging + "/" + weightsFile)
            if let vocabPath {
                let vocab: Data
                do { vocab = try Data(contentsOf: URL(fileURLWithPath: vocabPath)) } catch {
                    throw HuggingFaceError.io(path: vocabPath, reason: "cannot read: \(error.localizedDescription)")
                }
                try DurableFile.write(to: staging + "/" + vocabFile) { file in
                    try vocab.withUnsafeBytes { raw in
                        if let base = raw.baseAddress { try file.write(base, count: raw.count) }
                    }
                }
            }
            let marker = Data(markerJSON.utf8)
            try DurableFile.write(to: staging + "/" + markerFile) { file in
                try marker.withUnsafeBytes { try file.write($0.baseAddress!, count: $0.count) }
            }
            DurableFile.syncDirectory(staging)
            try install(staging: staging, at: target, replacing: exists)
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error
        }
    }

    /// Moves the finished `staging` directory to `target`. An existing target is first renamed
    /// aside, and restored if the second rename fails, so some complete version always exists.
    private static func install(staging: String, at target: String, replacing: Bool) throws {
        var aside: String?
        if replacing {
            let old = DurableFile.temporarySibling(of: target, tag: "old")
            if rename(target, old) != 0 {
                throw HuggingFaceError.io(path: target, reason: DurableFile.errnoText("cannot move aside"))
            }
            aside = old
        }
        if rename(staging, target) != 0 {
            let reason = DurableFile.errnoText("cannot rename \(staging)")
            if let aside { _ = rename(aside, target) }
            throw HuggingFaceError.io(path: target, reason: reason)
        }
        DurableFile.syncDirectory(containing: target)
        if let aside { try? FileManager.default.removeItem(atPath: aside) }
    }

    /// Reads a HuggingFace BERT directory into a flat parameter buffer laid out by
    /// `ParameterLayout(config: config)`.
    ///
    /// Accepts `BertForMaskedLM` and `BertForPreTraining` names, encoder-only `BertModel` names
    /// (no `bert.` prefix; the MLM head is then freshly initialised from `seed`, with a warning),
    /// legacy `LayerNorm.gamma`/`beta` names, and F16/BF16 weights (widened exactly). The pooler and
    /// `position_ids` buffers are ignored; other unknown tensors produce a warning.
    public static func load(from dir: String, seed: UInt64 = 0) throws
        -> (config: BertConfig, parameters: FloatBuffer, vocabPath: String?, warnings: [String])
    {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw HuggingFaceError.missingFile(path: dir)
        }
        let configPath = dir + "/" + configFile
        guard let configData = fm.contents(atPath: configPath) else { throw HuggingFaceError.missingFile(path: configPath) }
        let (config, configWarnings) = try HuggingFaceConfig.parse(configData, path: configPath)

        let weightsPath = dir + "/" + weightsFile
        if !fm.fileExists(atPath: weightsPath) {
            if fm.fileExists(atPath: dir + "/model.safetensors.index.json") {
                throw HuggingFaceError.unsupportedWeights(
                    path: dir,
                    reason: "sharded safetensors checkpoints are not "
                        + "supported; merge them into one model.safetensors")
            }
            for other in ["pytorch_model.bin", "tf_model.h5", "flax_model.msgpack"] where fm.fileExists(atPath: dir + "/" + other) {
                throw HuggingFaceError.unsupportedWeights(
                    path: dir + "/" + other,
                    reason: "only model.safetensors "
                        + "weights are supported; convert with transformers' save_pretrained(safe_serialization=True)")
            }
            throw HuggingFaceError.missingFile(path: weightsPath)
        }
        var warnings = configWarnings
        let file = try SafetensorsFile(path: weightsPath)
        let layout = ParameterLayout(config: config)
        let (parameters, loadWarnings) = try read(layout: layout, from: file, seed: seed)
        warnings += loadWarnings

        var vocabPath: String? = dir + "/" + vocabFile
        if let path = vocabPath, let vocab = fm.contents(atPath: path) {
            var lines = vocab.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
            if vocab.last == UInt8(ascii: "\n") { lines -= 1 }
            if lines > config.vocabSize {
                throw HuggingFaceError.vocabTooLarge(path: path, tokens: lines, vocabSize: config.vocabSize)
            }
        } else {
            warnings.append("\(dir): no \(vocabFile); the model directory has no tokenizer vocabulary")
            vocabPath = nil
        }
        return (config, parameters, vocabPath, warnings)
    }

    /// Reads every layout tensor from `file` into a new parameter buffer; returns it and warnings.
    /// Every tensor's presence, shape and dtype are checked before the buffer is allocated, so its size
    /// (from config.json, untrusted) is bounded by tensors the file really holds.
    static func read(layout: ParameterLayout, from file: SafetensorsFile, seed: UInt64) throws -> (FloatBuffer, [String]) {
        var warnings: [String] = []
        var used = Set<String>()
        let path = file.path
        // An encoder-only BertModel checkpoint has names without the "bert." prefix.
        let hasPrefix = file.tensors.keys.contains { $0.hasPrefix("bert.") }
        let encoderOnly = !hasPrefix && file.tensors.keys.contains { $0.hasPrefix("embeddings.") || $0.hasPrefix("encoder.") }

        /// Names `tensor` may have in the file, preferred first.
        func candidates(_ name: String) -> [String] {
            var base = [name]
            if encoderOnly, name.hasPrefix("bert.") { base = [String(name.dropFirst(5))] }
            if name == "cls.predictions.bias" { base.append(decoderBiasName) }
            var all = base
            for b in base {
                if b.hasSuffix("LayerNorm.weight") { all.append(String(b.dropLast(6)) + "gamma") }
                if b.hasSuffix("LayerNorm.bias") { all.append(String(b.dropLast(4)) + "beta") }
            }
            return all
        }

        func check(_ info: SafetensorsFile.TensorInfo, against expected: [Int], as tensorName: String) throws {
            if info.shape != expected {
                throw HuggingFaceError.shapeMismatch(path: path, tensor: info.name, expected: expected, actual: info.shape)
            }
            if !info.dtype.convertsToFloat32 {
                throw SafetensorsError.unsupportedDtype(path: path, tensor: info.name, dtype: info.dtype.rawValue)
            }
        }

        // The MLM head may be absent as a whole (BertModel checkpoint): initialise it then.
        let headTensors = layout.tensors.filter { $0.name.hasPrefix("cls.") }
        let headMissing = headTensors.allSatisfy { t in candidates(t.name).allSatisfy { file.tensors[$0] == nil } }
        if headMissing {
            warnings.append("\(path): no MLM head (encoder-only checkpoint); cls.predictions.* freshly initialised (seed \(seed))")
        }

        // Where each tensor comes from (nil: freshly initialised), checked before anything is allocated.
        var sources: [String?] = []
        for t in layout.tensors {
            if headMissing && t.name.hasPrefix("cls.") {
                sources.append(nil)
                continue
            }
            let names = candidates(t.name)
            guard let found = names.first(where: { file.tensors[$0] != nil }), let info = file.tensors[found] else {
                throw HuggingFaceError.missingTensor(path: path, tensor: names[0], tried: names)
            }
            try check(info, against: t.shape, as: t.name)
            sources.append(found)
        }
        let parameters = FloatBuffer(count: layout.totalCount)
        for (t, found) in zip(layout.tensors, sources) {
            guard let found else {
                ParameterLayout.initialise(t, in: parameters.pointer, std: layout.config.initializerRange, seed: seed, keyedBy: .name)
                continue
            }
            try file.read(found, into: parameters.pointer + t.offset)
            used.insert(found)
        }

        // The decoder bias aliases cls.predictions.bias; if both are stored they should agree.
        if used.contains("cls.predictions.bias"), let info = file.tensors[decoderBiasName] {
            used.insert(decoderBiasName)
            let bias = layout.head.decoderBias
            if info.shape == [layout.config.vocabSize], info.dtype.convertsToFloat32,
                try !equal(file.floats(decoderBiasName), parameters.pointer + bias)
            {
                warnings.append("\(path): \(decoderBiasName) differs from cls.predictions.bias; using cls.predictions.bias")
            }
        }
        if let info = file.tensors[decoderWeightName] {
            used.insert(decoderWeightName)
            let word = layout.embeddings.wordEmbeddings
            let comparable = info.shape == [layout.config.vocabSize, layout.config.hiddenSize] && info.dtype.convertsToFloat32
            let tied = try comparable && equal(file.floats(decoderWeightName), parameters.pointer + word)
            if !tied {
                warnings.append(
                    "\(path): \(decoderWeightName) differs from the word embeddings; untied decoders are "
                        + "not supported, it is ignored")
            }
        }

        let ignored = file.names.filter { name in
            !used.contains(name) && !name.hasSuffix("embeddings.position_ids")
                && !name.hasPrefix("pooler.") && !name.hasPrefix("bert.pooler.")
        }
        if !ignored.isEmpty {
            let shown = ignored.prefix(5).joined(separator: ", ")
            let more = ignored.count > 5 ? " and \(ignored.count - 5) more" : ""
            warnings.append("\(path): ignored \(ignored.count) unknown tensor(s): \(shown)\(more)")
        }
        return (parameters, warnings)
    }

    /// Bitwise equality of `values` with the floats at `pointer`.
    private static func equal(_ values: [Float], _ pointer: UnsafeMutablePointer<Float>) -> Bool {
        for i in values.indices where values[i].bitPattern != pointer[i].bitPattern { return false }
        return true
    }
}
