import Core
import Data
import Foundation
import Interop
import Kernels
import Model
import Training

/// What `sift train` reads from outside: paths and the settings that shape the data and the model.
struct TrainingInputs {
    /// A size name or a config.json path.
    var config: String
    var data: String?
    var trainJsonl: String?
    var validationJsonl: String?
    var vocab: String?
    var seqLen: Int?
    var trainSubset: Int?
    /// Epochs after which training masks repeat (0: never).
    var maskCycle: Int
    var initFrom: String?
    var dropout: Float
    var export: String?
    var overwriteExport: Bool
}

/// The data sources, model and options of a `sift train` run, built and checked on every rank
/// before any collective call, so that a bad input is reported instead of hanging the job.
struct TrainingSetup {
    var options: TrainingOptions
    var model: BertForMaskedLM
    var train: MLMSampleSource
    var validation: MLMSampleSource?
    var vocabHash: String
    var vocabPath: String?
    /// The unigram reference of `--score reducible` and `--score-vocabulary`, counted over the training sequences used.
    var reference: UnigramReference?
    var warnings: [String] = []

    /// - Parameter options: the run's options (from the flags); checked again here against the model built.
    static func make(_ inputs: TrainingInputs, options: TrainingOptions, ranks: Int) throws -> TrainingSetup {
        var warnings: [String] = []
        // Vocabulary: explicit, or the dataset's own copy.
        var vocabPath = inputs.vocab
        if let dir = inputs.data, !FileManager.default.fileExists(atPath: dir) { throw SetupError("dataset \(dir) does not exist (--data takes a directory written by `sift prepare`)") }
        if vocabPath == nil, let dir = inputs.data {
            let candidate = (dir as NSString).appendingPathComponent("vocab.txt")
            if FileManager.default.fileExists(atPath: candidate) { vocabPath = candidate }
        }
        let initial = try inputs.initFrom.map { try LoadedModel.load($0) }
        if vocabPath == nil { vocabPath = initial?.vocabPath }
        guard let vocabPath else { throw SetupError("no vocabulary: pass --vocab FILE (the vocab.txt the data was prepared with)") }
        let vocabulary = try Vocabulary(path: vocabPath)

        // Data.
        var train: MLMSampleSource
        var validation: MLMSampleSource?
        var reference: UnigramReference?
        if let dir = inputs.data {
            let dataset = try ShardedDataset(directory: dir)
            // Checksums are read once at start-up (seconds even for GBs), so a corrupt shard is an
            // error now rather than silently wrong training data.
            try dataset.verify()
            guard dataset.vocabHash == vocabulary.hash else {
                throw SetupError("dataset \(dir) was prepared with a different vocabulary (hash \(dataset.vocabHash), \(vocabPath) has \(vocabulary.hash))")
            }
            if let s = inputs.seqLen, s != dataset.seqLen {
                throw SetupError("--seq-len \(s) does not match the dataset's sequence length \(dataset.seqLen)")
            }
            guard dataset.count(.train) > 0 else { throw SetupError("dataset \(dir) has no training sequences") }
            train = MaskedDatasetSamples(dataset: dataset, split: .train, masker: MLMMasker(vocabulary: vocabulary, seed: options.seed),
                                         maskCycle: inputs.maskCycle)
            if let n = inputs.trainSubset {
                guard n <= train.count else { throw SetupError("--train-subset \(n) exceeds the \(train.count) training sequences of \(dir)") }
                train = SubsetSamples(base: train, count: n)
            }
            if options.score == .reducible || options.scoreVocabulary > 0 {
                reference = UnigramReference(trainingSplitOf: dataset, vocabulary: vocabulary,
                                             indices: (train as? SubsetSamples)?.indices)
            }
            if dataset.count(.validation) > 0 {
                validation = MaskedDatasetSamples(dataset: dataset, split: .validation,
                                                  masker: MLMMasker(vocabulary: vocabulary, seed: RandomStream.validationMasks.seed(from: options.seed)))
            } else {
                warnings.append("dataset \(dir) has no validation split; evaluation is skipped")
            }
        } else {
            let path = inputs.trainJsonl!
            let samples = try PremaskedSamples(path: path, vocabSize: vocabulary.count, padId: vocabulary.padId, seqLen: inputs.seqLen)
            guard samples.count > 0 else { throw SetupError("\(path) holds no samples") }
            train = samples
            if let n = inputs.trainSubset {
                guard n <= samples.count else { throw SetupError("--train-subset \(n) exceeds the \(samples.count) samples of \(path)") }
                train = SubsetSamples(base: samples, count: n)
            }
            if options.score == .reducible {
                throw SetupError("--score reducible needs --data (its unigram reference is counted over the dataset's shards)")
            }
            if options.scoreVocabulary > 0 {
                throw SetupError("--score-vocabulary needs --data (its most frequent tokens are counted over the dataset's shards)")
            }
            if let v = inputs.validationJsonl {
                validation = try PremaskedSamples(path: v, vocabSize: vocabulary.count, padId: vocabulary.padId, seqLen: samples.seqLen)
            }
        }

        // Model.
        var config: BertConfig
        let model: BertForMaskedLM
        if let initial {
            config = initial.config
            guard config.vocabSize == vocabulary.count else {
                throw SetupError("--init-from model has \(config.vocabSize) vocabulary rows but \(vocabPath) has \(vocabulary.count) tokens")
            }
            warnings += initial.warnings
            config.hiddenDropout = inputs.dropout
            config.attentionDropout = inputs.dropout
            model = BertForMaskedLM(config: config, parameters: initial.parameters)
        } else {
            if let named = BertConfig.named(inputs.config, vocabSize: vocabulary.count) {
                config = named
            } else {
                guard let data = FileManager.default.contents(atPath: inputs.config) else { throw SetupError("cannot read --config \(inputs.config)") }
                let parsed = try HuggingFaceConfig.parse(data, path: inputs.config)
                config = parsed.config
                warnings += parsed.warnings
                guard config.vocabSize == vocabulary.count else {
                    throw SetupError("--config has vocab_size \(config.vocabSize) but \(vocabPath) has \(vocabulary.count) tokens")
                }
            }
            config.padTokenId = Int(vocabulary.padId)
            config.hiddenDropout = inputs.dropout
            config.attentionDropout = inputs.dropout
            if let problem = config.validationError() { throw SetupError("model configuration: \(problem)") }
            model = BertForMaskedLM(config: config, seed: options.seed)
        }
        guard train.seqLen <= config.maxPositions else {
            throw SetupError("sequence length \(train.seqLen) exceeds the model's \(config.maxPositions) positions")
        }
        if let problem = options.validationError(numLayers: config.numLayers, ranks: ranks) { throw SetupError(problem) }
        if let dir = inputs.export, FileManager.default.fileExists(atPath: dir), !inputs.overwriteExport {
            throw SetupError("--export \(dir) already exists (pass --overwrite-export to replace it)")
        }
        return TrainingSetup(options: options, model: model, train: train, validation: validation,
                             vocabHash: vocabulary.hash, vocabPath: vocabPath, reference: reference, warnings: warnings)
    }
}

struct SetupError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

extension TrainCommand {
    /// The flags that name outside input, as the plain struct `TrainingSetup` takes.
    var inputs: TrainingInputs {
        TrainingInputs(config: config, data: data, trainJsonl: trainJsonl, validationJsonl: validationJsonl,
                       vocab: vocab, seqLen: seqLen, trainSubset: trainSubset, maskCycle: maskCycle, initFrom: initFrom,
                       dropout: dropout, export: export, overwriteExport: overwriteExport)
    }
}

extension TrainingSetup {
    /// Rank 0's closing lines: totals, and the mean time per step of each phase.
    static func summaryLines(_ summary: TrainingSummary) -> [String] {
        let t = summary.phaseTimes.mean(over: summary.stepsTimed)
        return [String(format: "done: %d steps, %d samples scored, %d backpropagated, %.1f s", summary.steps,
                       summary.samplesScored, summary.samplesBackpropagated, summary.elapsedSeconds),
                String(format: "time per step (rank 0): data %.3f s, scoring %.3f s, selection %.3f s, forward+backward %.3f s, exposed allreduce %.3f s, optimizer %.3f s, waiting %.3f s",
                       t.data, t.scoring, t.selection, t.forwardBackward, t.exposedAllreduce, t.optimizer, t.waiting)]
    }
}
