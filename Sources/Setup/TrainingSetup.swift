import Core
import Data
import Foundation
import Interop
import Kernels
import Model
import Training

/// The data sources, model and options of a `sift train` run, built and checked on every rank
/// before any collective call, so that a bad input is reported instead of hanging the job.
public struct TrainingSetup {
    public var options: TrainingOptions
    public var model: BertForMaskedLM
    public var train: MLMSampleSource
    public var validation: MLMSampleSource?
    public var vocabHash: String
    public var vocabPath: String?
    /// The unigram reference of `--score reducible` and `--score-vocabulary`, counted over the training sequences used.
    public var reference: UnigramReference?
    public var warnings: [String] = []
    /// The checkpoint `--resume` continues from, found by rank 0 (`findResumePoint`); nil on other ranks.
    public var resumePoint: LoadedCheckpoint?

    /// Rank 0's part of setting up a resumed run: the checkpoint to continue from
    /// (`TrainingCheckpoint.resumePoint`), checked against this run's model, vocabulary, settings and
    /// sequence length, and the warnings to print. Nil without `--resume`, or with `--resume-or-start` and
    /// nothing usable. With `--phase-from`, the newest valid checkpoint of that folder, which is only read
    /// (`phaseStartPoint`).
    /// - Throws: `SetupError` naming the directory and the problem (each damaged file, each field that differs).
    public func findResumePoint() throws -> (checkpoint: LoadedCheckpoint?, warnings: [String]) {
        if let from = options.phaseFrom { return try phaseStartPoint(from) }
        guard options.resume, let dir = options.checkpointDirectory else { return (nil, []) }
        let point: ResumePoint
        do { point = try TrainingCheckpoint.resumePoint(directory: dir, startIfNone: options.resumeOrStart) } catch {
            throw SetupError("\(error)")
        }
        if let c = point.checkpoint,
            let problem = c.state.mismatch(options: options, config: model.config, vocabHash: vocabHash, seqLen: train.seqLen)
        {
            throw SetupError("checkpoint \(c.path) \(problem)")
        }
        return (point.checkpoint, point.warnings.map { "damaged checkpoint: \($0)" })
    }

    /// The checkpoint a new phase (`--phase-from DIR`) starts from: the newest in `dir` that verifies,
    /// checked as for a resume except for the sequence length and the schedule. Nothing in `dir` is
    /// changed: a damaged newer checkpoint is skipped with a warning, not set aside.
    /// - Throws: `SetupError` when `dir` holds no valid checkpoint or the checkpoint does not fit this run.
    func phaseStartPoint(_ dir: String) throws -> (checkpoint: LoadedCheckpoint?, warnings: [String]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SetupError("--phase-from \(dir) is not a directory (give the earlier phase's --checkpoint-dir)")
        }
        var skipped: [String] = []
        guard let c = TrainingCheckpoint.loadNewestValid(directory: dir, warn: { skipped.append($0) }) else {
            let why = skipped.isEmpty ? "holds no checkpoint" : "holds no valid checkpoint (" + skipped.joined(separator: "; ") + ")"
            throw SetupError("--phase-from \(dir) \(why)")
        }
        if let problem = c.state.mismatch(
            options: options, config: model.config, vocabHash: vocabHash, seqLen: train.seqLen, newPhase: true)
        {
            throw SetupError("checkpoint \(c.path) \(problem)")
        }
        return (c, skipped.map { "--phase-from: \($0) (left as it is)" })
    }

    /// Builds the run's vocabulary, data and model from `inputs` and checks `options` against them.
    /// - Parameter options: the run's options (from the flags); checked again here against the model built.
    /// - Throws: `SetupError` naming the first problem.
    public static func make(_ inputs: TrainingInputs, options: TrainingOptions, ranks: Int) throws -> TrainingSetup {
        var warnings: [String] = []
        if let dir = inputs.data, !FileManager.default.fileExists(atPath: dir) { throw SetupError.missingDataset(dir) }
        if let dir = inputs.data,
            !FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(DatasetManifest.fileName))
        {
            throw SetupError(
                "\(dir) is not a sift dataset (no \(DatasetManifest.fileName)); --data takes a directory written by `sift prepare`")
        }
        let initial = try inputs.initFrom.map { try LoadedModel.load($0) }
        // Vocabulary: explicit, or the dataset's own copy, or the one beside --init-from's model.
        guard let vocabPath = inputs.vocab ?? inputs.data.flatMap(DatasetFiles.vocabulary(in:)) ?? initial?.vocabPath else {
            throw SetupError("no vocabulary: pass --vocab FILE (the vocab.txt the data was prepared with)")
        }
        let vocabulary = try Vocabulary(path: vocabPath)
        var data =
            try inputs.data.map {
                try DatasetFiles.open(
                    $0, vocabulary: vocabulary, vocabPath: vocabPath, seed: options.seed,
                    maskCycle: inputs.maskCycle, masking: options.masking,
                    seqLen: inputs.seqLen)
            }
            ?? premaskedData(inputs, vocabulary: vocabulary, options: options)
        if let n = inputs.trainSubset {
            guard n <= data.train.count else {
                let what = inputs.data != nil ? "training sequences" : "samples"
                throw SetupError("--train-subset \(n) exceeds the \(data.train.count) \(what) of \(inputs.data ?? inputs.trainJsonl!)")
            }
            data.train = SubsetSamples(base: data.train, count: n)
        }
        var reference: UnigramReference?
        if let dataset = data.dataset, options.score == .reducible || options.scoreVocabulary > 0 || options.startsByLearnedShare {
            reference = UnigramReference(trainingSplitOf: dataset, vocabulary: vocabulary, indices: (data.train as? SubsetSamples)?.indices)
        }
        if inputs.data != nil && data.validation == nil {
            warnings.append("dataset \(inputs.data!) has no validation split; evaluation is skipped")
        }
        let (model, modelWarnings) = try makeModel(
            inputs, initial: initial, vocabulary: vocabulary, vocabPath: vocabPath,
            seed: options.seed)
        warnings += modelWarnings
        guard data.train.seqLen <= model.config.maxPositions else {
            throw SetupError("sequence length \(data.train.seqLen) exceeds the model's \(model.config.maxPositions) positions")
        }
        if let problem = options.validationError(numLayers: model.config.numLayers, ranks: ranks) { throw SetupError(problem) }
        if options.policy.selects && options.poolSize > data.train.count {
            warnings.append(
                "the pool of \(options.poolSize) candidates per step (--batch-size \(options.batchSize) / "
                    + "--select-fraction \(options.selectFraction)) exceeds the \(data.train.count) training samples: "
                    + "each step scores some samples more than once")
        }
        let memory = MemoryEstimate(options: options, config: model.config, seqLen: data.train.seqLen, ranks: ranks)
        if let problem = memory.problem(
            physicalBytes: ProcessInfo.processInfo.physicalMemory, ranksHere: MemoryEstimate.ranksOnThisMachine(ranks),
            pool: options.poolSize, batchSize: options.batchSize)
        {
            throw SetupError(problem)
        }
        if let dir = inputs.export, FileManager.default.fileExists(atPath: dir) {
            guard inputs.overwriteExport else { throw SetupError("--export \(dir) already exists (pass --overwrite-export to replace it)") }
            if let reason = HuggingFaceCheckpoint.replacementProblem(dir) { throw SetupError("--export \(dir) \(reason); not replaced") }
        }
        return TrainingSetup(
            options: options, model: model, train: data.train, validation: data.validation,
            vocabHash: vocabulary.hash, vocabPath: vocabPath, reference: reference, warnings: warnings)
    }

    /// `--train-jsonl` (and `--validation-jsonl`): samples masked already, without the counts a dataset has.
    private static func premaskedData(_ inputs: TrainingInputs, vocabulary: Vocabulary, options: TrainingOptions) throws -> DatasetFiles {
        let path = inputs.trainJsonl!
        let samples = try PremaskedSamples(path: path, vocabSize: vocabulary.count, padId: vocabulary.padId, seqLen: inputs.seqLen)
        guard samples.count > 0 else { throw SetupError("\(path) holds no samples") }
        if options.score == .reducible {
            throw SetupError("--score reducible needs --data (its unigram reference is counted over the dataset's shards)")
        }
        if options.scoreVocabulary > 0 {
            throw SetupError("--score-vocabulary needs --data (its most frequent tokens are counted over the dataset's shards)")
        }
        if options.masking != .tokens {
            throw SetupError("--mask \(options.masking.rawValue) needs --data (--train-jsonl samples come masked already)")
        }
        if options.startsByLearnedShare {
            throw SetupError("--sift-start-learned needs --data (the unigram loss it compares with is counted over the dataset's shards)")
        }
        let validation = try inputs.validationJsonl.map {
            try PremaskedSamples(path: $0, vocabSize: vocabulary.count, padId: vocabulary.padId, seqLen: samples.seqLen)
        }
        return DatasetFiles(dataset: nil, train: samples, validation: validation)
    }

    /// The model: `--init-from`'s weights, or a fresh one of `--config` (a size name or a config.json).
    private static func makeModel(
        _ inputs: TrainingInputs, initial: LoadedModel?, vocabulary: Vocabulary, vocabPath: String,
        seed: UInt64
    ) throws -> (BertForMaskedLM, [String]) {
        if let initial {
            var config = initial.config
            guard config.vocabSize == vocabulary.count else {
                throw SetupError(
                    "--init-from model has \(config.vocabSize) vocabulary rows but \(vocabPath) has "
                        + "\(vocabulary.count) tokens")
            }
            config.hiddenDropout = inputs.dropout
            config.attentionDropout = inputs.dropout
            return (BertForMaskedLM(config: config, parameters: initial.parameters), initial.warnings)
        }
        var config: BertConfig
        var warnings: [String] = []
        if let named = BertConfig.named(inputs.config, vocabSize: vocabulary.count) {
            config = named
        } else {
            guard let data = FileManager.default.contents(atPath: inputs.config) else {
                throw SetupError("cannot read --config \(inputs.config)")
            }
            let parsed = try HuggingFaceConfig.parse(data, path: inputs.config)
            config = parsed.config
            warnings = parsed.warnings
            guard config.vocabSize == vocabulary.count else {
                throw SetupError("--config has vocab_size \(config.vocabSize) but \(vocabPath) has \(vocabulary.count) tokens")
            }
        }
        config.padTokenId = Int(vocabulary.padId)
        config.hiddenDropout = inputs.dropout
        config.attentionDropout = inputs.dropout
        if let problem = config.validationError() { throw SetupError("model configuration: \(problem)") }
        return (BertForMaskedLM(config: config, seed: seed), warnings)
    }
}
