import Core
import Data
import Foundation
import Model
import Setup
import SiftTestSupport
import Training
import XCTest

/// `TrainingSetup.make` against a dataset written by the real `sift prepare`: what it builds, and the
/// one-line errors of bad inputs (checked on every rank before any collective).
final class TrainingSetupTests: XCTestCase {
    /// The rows of `source`'s first `n` samples: token ids and labels.
    private func rows(_ source: MLMSampleSource, _ n: Int) -> [[Int32]] {
        var b = MLMBatch(count: n, seqLen: source.seqLen)
        b.fill((0..<n).map { (index: $0, epoch: 0) }, from: source)
        return [b.inputIds, b.labels]
    }

    func testBuildsTheModelAndMasksBothSplitsFromTheSeed() throws {
        let p = try TrainingFixture.paths()
        var o = TrainingOptions()
        o.seed = 21
        o.scoreVocabulary = 16
        let setup = try TrainingSetup.make(TrainingInputs(config: "tiny", data: p.dataset, dropout: 0), options: o, ranks: 2)
        let vocabulary = try Vocabulary(path: p.vocab)
        XCTAssertEqual(setup.model.config.vocabSize, vocabulary.count)
        XCTAssertEqual(setup.model.config.hiddenDropout, 0)
        XCTAssertEqual(setup.vocabPath, p.dataset + "/vocab.txt")
        XCTAssertEqual(setup.vocabHash, vocabulary.hash)
        XCTAssertNotNil(setup.reference, "a scoring vocabulary needs the unigram counts")
        // Training masks from the seed, validation masks from the validation stream's seed: independent checks.
        let dataset = try ShardedDataset(directory: p.dataset)
        let train = MaskedDatasetSamples(dataset: dataset, split: .train, masker: MLMMasker(vocabulary: vocabulary, seed: 21))
        XCTAssertEqual(rows(setup.train, 4), rows(train, 4))
        let validation = try XCTUnwrap(setup.validation)
        let expected = MaskedDatasetSamples(
            dataset: dataset, split: .validation,
            masker: MLMMasker(vocabulary: vocabulary, seed: RandomStream.validationMasks.seed(from: 21)))
        XCTAssertEqual(rows(validation, 2), rows(expected, 2))
        let sameAsTraining = MaskedDatasetSamples(dataset: dataset, split: .validation, masker: MLMMasker(vocabulary: vocabulary, seed: 21))
        XCTAssertNotEqual(rows(validation, 2)[1], rows(sameAsTraining, 2)[1], "validation masks must not be the training seed's")
    }

    func testTrainSubsetAndCheckedOptions() throws {
        let p = try TrainingFixture.paths()
        var inputs = TrainingInputs(config: "tiny", data: p.dataset, trainSubset: 10)
        XCTAssertEqual(try TrainingSetup.make(inputs, options: TrainingOptions(), ranks: 1).train.count, 10)
        inputs.trainSubset = 1_000_000
        XCTAssertThrowsError(try TrainingSetup.make(inputs, options: TrainingOptions(), ranks: 1)) {
            XCTAssertTrue("\($0)".contains("--train-subset 1000000 exceeds"), "\($0)")
        }
        var o = TrainingOptions()
        o.exitLayer = 3  // tiny has 2 layers: known only once the model is built
        XCTAssertThrowsError(try TrainingSetup.make(TrainingInputs(config: "tiny", data: p.dataset), options: o, ranks: 1)) {
            XCTAssertTrue("\($0)".contains("--exit-layer"), "\($0)")
        }
    }

    func testBadInputsAreOneLineErrors() throws {
        let p = try TrainingFixture.paths()
        let d = temporaryDirectory("setup")
        func message(_ inputs: TrainingInputs, _ o: TrainingOptions = TrainingOptions()) -> String {
            do {
                _ = try TrainingSetup.make(inputs, options: o, ranks: 1)
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(message(TrainingInputs(config: "tiny", data: d + "/none")).contains("does not exist"))
        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nother\n".write(toFile: d + "/vocab.txt", atomically: true, encoding: .utf8)
        XCTAssertTrue(message(TrainingInputs(config: "tiny", data: p.dataset, vocab: d + "/vocab.txt")).contains("different vocabulary"))
        XCTAssertTrue(message(TrainingInputs(config: "tiny", data: p.dataset, seqLen: 64)).contains("does not match"))
        XCTAssertTrue(message(TrainingInputs(config: d + "/missing.json", data: p.dataset)).contains("cannot read --config"))
        try FileManager.default.createDirectory(atPath: d + "/export", withIntermediateDirectories: true)
        XCTAssertTrue(message(TrainingInputs(config: "tiny", data: p.dataset, export: d + "/export")).contains("--overwrite-export"))
        for m in [message(TrainingInputs(config: "tiny", data: d + "/none"))] { XCTAssertFalse(m.contains("\n")) }
    }
}
