import Data
import Foundation
import Model
import Training

/// A trained model and real data for `sift bench --only fidelity`: the fidelity of a scoring path is a
/// property of what the model has learned and of the text, not of the model's size, so it cannot be
/// measured on the synthetic data of the step section.
public struct FidelitySource {
    public let model: BertForMaskedLM
    /// Training samples, masked as `sift train` masks them (epoch 0).
    public let samples: MLMSampleSource
    /// Named in the printed table (e.g. the model's and the dataset's paths).
    public let description: String
    /// Pools measured; each is b/ρ candidates of the candidate stream, b = `sift train`'s default batch.
    public let pools: Int
    /// The training data's −log unigram frequencies, for paths with a scoring vocabulary (nil: none measured).
    public let reference: UnigramReference?
    /// Problems met loading the model that did not stop it.
    public let warnings: [String]

    public init(
        model: BertForMaskedLM, samples: MLMSampleSource, description: String, pools: Int,
        reference: UnigramReference? = nil, warnings: [String] = []
    ) {
        self.model = model
        self.samples = samples
        self.description = description
        self.pools = pools
        self.reference = reference
        self.warnings = warnings
    }
}

extension FidelitySource {
    /// The fidelity bench's trained model (`path`: a HuggingFace directory, a checkpoint file or directory) and
    /// the training split of dataset `dir`, masked as `sift train` masks it with its default seed. The
    /// vocabulary is the dataset's own copy (or the model's); it must be the one the dataset was prepared with
    /// and match the model's size.
    /// - Parameter withReference: also count the training split's unigram frequencies (for scoring vocabularies).
    /// - Throws: `SetupError` naming the first problem.
    public static func load(model path: String, data dir: String, pools: Int, withReference: Bool) throws -> FidelitySource {
        let loaded = try LoadedModel.load(path)
        guard FileManager.default.fileExists(atPath: dir) else { throw SetupError.missingDataset(dir) }
        guard let vocabPath = DatasetFiles.vocabulary(in: dir) ?? loaded.vocabPath else {
            throw SetupError("no vocabulary: neither \(dir)/vocab.txt nor a vocab.txt beside the model")
        }
        let vocabulary = try Vocabulary(path: vocabPath)
        if let modelVocab = loaded.vocabPath, let v = try? Vocabulary(path: modelVocab), v.hash != vocabulary.hash {
            throw SetupError("model \(path) was trained with another vocabulary (\(modelVocab)) than dataset \(dir)")
        }
        guard vocabulary.count == loaded.config.vocabSize else {
            throw SetupError("model \(path) has \(loaded.config.vocabSize) tokens, the dataset's vocabulary \(vocabulary.count)")
        }
        let files = try DatasetFiles.open(dir, vocabulary: vocabulary, vocabPath: vocabPath, seed: TrainingOptions().seed)
        guard files.train.seqLen <= loaded.config.maxPositions else {
            throw SetupError("dataset sequences of \(files.train.seqLen) tokens exceed the model's \(loaded.config.maxPositions) positions")
        }
        let reference = withReference ? files.dataset.map { UnigramReference(trainingSplitOf: $0, vocabulary: vocabulary) } : nil
        return FidelitySource(
            model: BertForMaskedLM(config: loaded.config, parameters: loaded.parameters), samples: files.train,
            description: "model \(path), data \(dir)", pools: pools, reference: reference, warnings: loaded.warnings)
    }
}
