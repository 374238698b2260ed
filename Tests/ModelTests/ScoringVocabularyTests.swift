import Kernels
import Model
import XCTest

/// `--score-vocabulary`: the scoring head over a subset of the classes plus each label.
final class ScoringVocabularyTests: XCTestCase {
    /// Per masked row: log Σ over (subset ∪ label) of e^z − z_label, from the full logits in Double.
    func subsetLosses(_ model: BertForMaskedLM, _ batch: MLMBatch, subset: Set<Int>, exitLayer: Int) -> (loss: [Double], correct: [Int]) {
        let V = model.config.vocabSize
        let (positions, logits) = model.maskedLogits(batch, exitLayer: exitLayer)
        var loss = [Double](repeating: 0, count: batch.count), correct = [Int](repeating: 0, count: batch.count)
        for (r, p) in positions.enumerated() {
            let label = Int(batch.labels[p])
            let classes = subset.union([label]).sorted()
            let z = classes.map { Double(logits[r * V + $0]) }
            let m = z.max()!
            loss[p / batch.seqLen] += log(z.map { exp($0 - m) }.reduce(0, +)) + m - Double(logits[r * V + label])
            if Double(logits[r * V + label]) > subset.subtracting([label]).map({ Double(logits[r * V + $0]) }).max() ?? -.infinity {
                correct[p / batch.seqLen] += 1
            }
        }
        return (loss, correct)
    }

    func testSubsetLossesMatchARecomputationFromTheFullLogits() {
        let config = Fixtures.smallConfig()
        let model = Fixtures.randomModel(config, seed: 31)
        let batch = Fixtures.batch(config, count: 5)
        // Frequencies that make ids 5, 9, 2, … the most frequent, so the subset is not a prefix of the ids.
        let reference = (0..<config.vocabSize).map { Float(($0 * 7 + 3) % config.vocabSize) }
        for size in [1, 6, 20] {
            let vocabulary = ScoringVocabulary(reference: reference, size: size)
            XCTAssertEqual(vocabulary.count, size)
            let expectedIds = (0..<config.vocabSize).sorted { (reference[$0], $0) < (reference[$1], $1) }.prefix(size)
            XCTAssertEqual(vocabulary.ids.map(Int.init), Array(expectedIds))
            let (expected, correct) = subsetLosses(model, batch, subset: Set(expectedIds), exitLayer: 1)
            for chunk in [5, 2] {  // one chunk, and chunks that split the batch
                model.scoringChunk = chunk
                let scored = model.sampleLosses(batch, exitLayer: 1, vocabulary: vocabulary)
                for b in 0..<batch.count {
                    XCTAssertEqual(Double(scored[b].lossSum), expected[b], accuracy: 1e-4, "K \(size), sample \(b)")
                    XCTAssertEqual(scored[b].correct, correct[b], "K \(size), sample \(b)")
                }
            }
        }
        model.scoringChunk = 32
        // The subset's loss is a lower bound of the full loss; all V classes give the full loss itself.
        let full = model.sampleLosses(batch, exitLayer: 1)
        let some = model.sampleLosses(batch, exitLayer: 1, vocabulary: ScoringVocabulary(reference: reference, size: 6))
        for b in 0..<batch.count { XCTAssertLessThanOrEqual(some[b].lossSum, full[b].lossSum + 1e-5) }
        let all = model.sampleLosses(batch, exitLayer: 1, vocabulary: ScoringVocabulary(reference: reference, size: config.vocabSize))
        XCTAssertEqual(all.map(\.lossSum), full.map(\.lossSum))
    }

    /// The kept-prefix scoring path (with the training dropout) applies the vocabulary too: without dropout
    /// it equals `sampleLosses` with the same vocabulary.
    func testKeptPrefixScoringUsesTheVocabulary() {
        let config = Fixtures.smallConfig()
        let model = Fixtures.randomModel(config, seed: 32)
        let batch = Fixtures.batch(config, count: 4)
        let vocabulary = ScoringVocabulary(reference: (0..<config.vocabSize).map { Float(-$0) }, size: 9)
        let prefix = model.activationPrefix(depth: 1)
        let kept = model.scoreKeepingPrefix(batch, dropoutSeed: nil, into: prefix, vocabulary: vocabulary).losses
        let evaluated = model.sampleLosses(batch, exitLayer: 1, vocabulary: vocabulary)
        for b in 0..<batch.count {
            XCTAssertEqual(kept[b].lossSum, evaluated[b].lossSum, accuracy: 1e-5 * max(1, abs(evaluated[b].lossSum)))
        }
        XCTAssertNotEqual(kept.map(\.lossSum), model.sampleLosses(batch, exitLayer: 1).map(\.lossSum))
    }
}
