import Core
import Data
import Foundation

/// A dataset written by `sift prepare`, opened and checked, and its training and validation samples masked
/// as `sift train` masks them: the one place `sift train` and `sift bench --only fidelity` read a dataset.
struct DatasetFiles {
    /// The shards (nil for pre-masked JSON Lines samples).
    var dataset: ShardedDataset?
    var train: MLMSampleSource
    var validation: MLMSampleSource?

    /// The vocab.txt the dataset directory `dir` carries, if any.
    static func vocabulary(in dir: String) -> String? {
        let path = (dir as NSString).appendingPathComponent("vocab.txt")
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// Opens `dir`, verifies its checksums and that it was prepared with `vocabulary`, and masks its training
    /// split with `seed` (masks repeating every `maskCycle` epochs, 0: never) and its validation split with the
    /// `RandomStream.validationMasks` seed derived from it, both by `masking` (single tokens or whole words).
    /// - Parameter seqLen: the sequence length asked for, checked against the dataset's (nil: any).
    static func open(
        _ dir: String, vocabulary: Vocabulary, vocabPath: String, seed: UInt64, maskCycle: Int = 0,
        masking: MaskingMode = .tokens, seqLen: Int? = nil
    ) throws -> DatasetFiles {
        guard FileManager.default.fileExists(atPath: dir) else { throw SetupError.missingDataset(dir) }
        let dataset = try ShardedDataset(directory: dir)
        // Checksums are read once at start-up (seconds even for GBs), so a corrupt shard is an
        // error now rather than silently wrong training data.
        try dataset.verify()
        guard dataset.vocabHash == vocabulary.hash else {
            throw SetupError(
                "dataset \(dir) was prepared with a different vocabulary "
                    + "(hash \(dataset.vocabHash), \(vocabPath) has \(vocabulary.hash))")
        }
        // The manifest is checked against the vocabulary: the unigram counts and the model are sized by one,
        // the token ids by the other (a hand-edited vocabSize trapped the trainer).
        guard dataset.vocabSize == vocabulary.count else {
            throw SetupError(
                "dataset \(dir)/\(DatasetManifest.fileName) says vocabSize \(dataset.vocabSize) but \(vocabPath) "
                    + "has \(vocabulary.count) tokens")
        }
        if dataset.manifest.tokenDtype == "uint16" && vocabulary.count > 65_536 {
            throw SetupError("dataset \(dir)/\(DatasetManifest.fileName) stores uint16 ids but \(vocabPath) has \(vocabulary.count) tokens")
        }
        if let s = seqLen, s != dataset.seqLen {
            throw SetupError("--seq-len \(s) does not match the dataset's sequence length \(dataset.seqLen)")
        }
        guard dataset.count(.train) > 0 else { throw SetupError("dataset \(dir) has no training sequences") }
        let train = MaskedDatasetSamples(
            dataset: dataset, split: .train,
            masker: MLMMasker(vocabulary: vocabulary, seed: seed, mode: masking), maskCycle: maskCycle)
        let validationMasker = MLMMasker(vocabulary: vocabulary, seed: RandomStream.validationMasks.seed(from: seed), mode: masking)
        let validation =
            dataset.count(.validation) > 0
            ? MaskedDatasetSamples(dataset: dataset, split: .validation, masker: validationMasker)
            : nil
        return DatasetFiles(dataset: dataset, train: train, validation: validation)
    }
}
