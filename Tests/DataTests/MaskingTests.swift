import XCTest
import Foundation
import Data

final class MaskingTests: XCTestCase {
    func testMaskingStatistics() {
        // vocab of 1000 ids with the specials scattered (looked up by name, not fixed ids)
        let pad: Int32 = 0, unk: Int32 = 100, cls: Int32 = 101, sep: Int32 = 102, maskId: Int32 = 103
        let masker = MLMMasker(specialIds: [pad, unk, cls, sep, maskId], padId: pad, maskId: maskId,
                               vocabSize: 1000, probability: 0.15, seed: 11)
        let specials: Set<Int32> = [pad, unk, cls, sep, maskId]
        var rng = SplitMix(seed: 5)
        let n = 128
        var tokens = [Int32](repeating: 0, count: n), input = tokens, labels = tokens
        var eligible = 0, selected = 0, masked = 0, random = 0, kept = 0
        for index in 0..<3000 {
            let content = 60 + Int(rng.next() % 66)
            tokens[0] = cls
            for i in 1...content {
                var t: Int32
                repeat { t = Int32(rng.next() % 1000) } while specials.contains(t) && t != unk
                tokens[i] = t
            }
            tokens[content + 1] = sep
            for i in (content + 2)..<n { tokens[i] = pad }
            masker.mask(tokens: tokens, length: n, epoch: 2, globalIndex: index, inputIds: &input, labels: &labels)
            for i in 0..<n {
                if specials.contains(tokens[i]) {
                    XCTAssertEqual(labels[i], -100); XCTAssertEqual(input[i], tokens[i]); continue
                }
                eligible += 1
                if labels[i] == -100 { XCTAssertEqual(input[i], tokens[i]); continue }
                XCTAssertEqual(labels[i], tokens[i])
                selected += 1
                if input[i] == maskId { masked += 1 } else if input[i] == tokens[i] { kept += 1 } else {
                    random += 1
                    XCTAssertFalse(specials.contains(input[i]), "random replacement must not be special")
                    XCTAssertTrue(input[i] >= 0 && input[i] < 1000)
                }
            }
        }
        let rate = Double(selected) / Double(eligible)
        XCTAssertEqual(rate, 0.15, accuracy: 0.005)
        XCTAssertEqual(Double(masked) / Double(selected), 0.8, accuracy: 0.01)
        // a random draw equals the original with probability ~1/995, counted as "kept"
        XCTAssertEqual(Double(random) / Double(selected), 0.1, accuracy: 0.01)
        XCTAssertEqual(Double(kept) / Double(selected), 0.1, accuracy: 0.01)
    }

    func testEverySampleWithContentHasALoss() {
        let masker = MLMMasker(specialIds: [0, 1, 2, 3, 4], padId: 0, maskId: 4, vocabSize: 50, seed: 1)
        var input = [Int32](repeating: 0, count: 8), labels = input
        for index in 0..<2000 {
            let tokens: [Int32] = [2, 17, 3, 0, 0, 0, 0, 0]
            masker.mask(tokens: tokens, length: 8, epoch: 0, globalIndex: index, inputIds: &input, labels: &labels)
            XCTAssertEqual(labels, [-100, 17, -100, -100, -100, -100, -100, -100])
        }
        let allSpecial: [Int32] = [2, 3, 0, 0, 0, 0, 0, 0]
        masker.mask(tokens: allSpecial, length: 8, epoch: 0, globalIndex: 0, inputIds: &input, labels: &labels)
        XCTAssertEqual(labels, [Int32](repeating: -100, count: 8))
        XCTAssertEqual(input, allSpecial)
    }

    func testIdenticalMasksFromIndependentReaders() throws {
        let corpus = GeneratedCorpus()
        let vocabPath = try learnVocabulary(corpus)
        let out = makeTempDirectory("out") + "/ds"
        try DatasetPreparer.prepare(.init(corpus: [corpus.directory], vocabPath: vocabPath, seqLen: 32,
                                          outDirectory: out, validationFraction: 0.2), warn: { _ in })
        let vocab = try Vocabulary(path: vocabPath)
        let a = MaskedDatasetSamples(dataset: try ShardedDataset(directory: out), split: .train,
                                     masker: MLMMasker(vocabulary: vocab, seed: 99))
        let b = MaskedDatasetSamples(dataset: try ShardedDataset(directory: out), split: .train,
                                     masker: MLMMasker(vocabulary: vocab, seed: 99))
        XCTAssertGreaterThan(a.count, 3)
        let n = a.seqLen
        var ia = [Int32](repeating: 0, count: n), ta = ia, ma = ia, la = ia
        var ib = ia, tb = ia, mb = ia, lb = ia
        var differsAcrossEpochs = false
        // read b in reverse order so nothing depends on access order
        for epoch in 0..<3 {
            for index in 0..<a.count {
                a.fill(index: index, epoch: epoch, inputIds: &ia, tokenTypeIds: &ta, attentionMask: &ma, labels: &la)
                b.fill(index: a.count - 1 - index, epoch: epoch, inputIds: &ib, tokenTypeIds: &tb, attentionMask: &mb, labels: &lb)
                b.fill(index: index, epoch: epoch, inputIds: &ib, tokenTypeIds: &tb, attentionMask: &mb, labels: &lb)
                XCTAssertEqual(ia, ib); XCTAssertEqual(la, lb); XCTAssertEqual(ma, mb); XCTAssertEqual(ta, tb)
                XCTAssertTrue(la.contains { $0 != -100 }, "every sample has a loss")
                XCTAssertEqual(ta, [Int32](repeating: 0, count: n))
                var raw = [Int32](repeating: 0, count: n)
                raw.withUnsafeMutableBufferPointer { a.dataset.copySequence(.train, index: index, into: $0.baseAddress!) }
                XCTAssertEqual(ma, raw.map { $0 == vocab.padId ? 0 : 1 })
                if epoch == 1 {
                    b.fill(index: index, epoch: 0, inputIds: &ib, tokenTypeIds: &tb, attentionMask: &mb, labels: &lb)
                    if lb != la { differsAcrossEpochs = true }
                }
            }
        }
        XCTAssertTrue(differsAcrossEpochs, "masks change with the epoch")
    }

    /// `maskCycle` N masks epoch e as epoch e mod N: with N = 1 every visit of a sample gets the mask
    /// of its first (static masks), with N = 2 epochs 0 and 2 agree and 0 and 1 do not; 0 keeps
    /// drawing new masks. Compared with a masker called directly at the reduced epoch.
    func testMaskCycleRepeatsTheMasksOfEarlierEpochs() throws {
        let corpus = GeneratedCorpus()
        let vocabPath = try learnVocabulary(corpus)
        let out = makeTempDirectory("out") + "/ds"
        try DatasetPreparer.prepare(.init(corpus: [corpus.directory], vocabPath: vocabPath, seqLen: 32,
                                          outDirectory: out, validationFraction: 0.2), warn: { _ in })
        let vocab = try Vocabulary(path: vocabPath), dataset = try ShardedDataset(directory: out)
        let masker = MLMMasker(vocabulary: vocab, seed: 7)
        let n = dataset.seqLen
        func labels(_ source: MaskedDatasetSamples, _ index: Int, _ epoch: Int) -> [Int32] {
            var i = [Int32](repeating: 0, count: n), t = i, m = i, l = i
            source.fill(index: index, epoch: epoch, inputIds: &i, tokenTypeIds: &t, attentionMask: &m, labels: &l)
            return i + l
        }
        let fresh = MaskedDatasetSamples(dataset: dataset, split: .train, masker: masker)
        let fixed = MaskedDatasetSamples(dataset: dataset, split: .train, masker: masker, maskCycle: 1)
        let two = MaskedDatasetSamples(dataset: dataset, split: .train, masker: masker, maskCycle: 2)
        var freshDiffers = 0, twoDiffersAtOddEpochs = 0
        for index in 0..<fresh.count {
            let e0 = labels(fresh, index, 0), e1 = labels(fresh, index, 1)
            for epoch in 0..<5 {
                XCTAssertEqual(labels(fixed, index, epoch), e0, "static masks: sample \(index), epoch \(epoch)")
            }
            XCTAssertEqual(labels(two, index, 2), e0); XCTAssertEqual(labels(two, index, 3), e1)
            XCTAssertEqual(labels(two, index, 1), e1)
            if e1 != e0 { freshDiffers += 1 }
            if labels(two, index, 1) != labels(two, index, 2) { twoDiffersAtOddEpochs += 1 }
        }
        XCTAssertGreaterThan(freshDiffers, fresh.count / 2, "without a cycle the masks change with the epoch")
        XCTAssertGreaterThan(twoDiffersAtOddEpochs, fresh.count / 2)
    }
}
