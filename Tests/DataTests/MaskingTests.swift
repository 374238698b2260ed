import Core
import Data
import Foundation
import XCTest

final class MaskingTests: XCTestCase {
    func testMaskingStatistics() {
        // vocab of 1000 ids with the specials scattered (looked up by name, not fixed ids)
        let pad: Int32 = 0, unk: Int32 = 100, cls: Int32 = 101, sep: Int32 = 102, maskId: Int32 = 103
        let masker = MLMMasker(
            specialIds: [pad, unk, cls, sep, maskId], padId: pad, maskId: maskId,
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
                    XCTAssertEqual(labels[i], -100)
                    XCTAssertEqual(input[i], tokens[i])
                    continue
                }
                eligible += 1
                if labels[i] == -100 {
                    XCTAssertEqual(input[i], tokens[i])
                    continue
                }
                XCTAssertEqual(labels[i], tokens[i])
                selected += 1
                if input[i] == maskId {
                    masked += 1
                } else if input[i] == tokens[i] {
                    kept += 1
                } else {
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
        try DatasetPreparer.prepare(
            .init(
                corpus: [corpus.directory], vocabPath: vocabPath, seqLen: 32,
                outDirectory: out, validationFraction: 0.2), warn: { _ in })
        let vocab = try Vocabulary(path: vocabPath)
        let a = MaskedDatasetSamples(
            dataset: try ShardedDataset(directory: out), split: .train,
            masker: MLMMasker(vocabulary: vocab, seed: 99))
        let b = MaskedDatasetSamples(
            dataset: try ShardedDataset(directory: out), split: .train,
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
                XCTAssertEqual(ia, ib)
                XCTAssertEqual(la, lb)
                XCTAssertEqual(ma, mb)
                XCTAssertEqual(ta, tb)
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
        try DatasetPreparer.prepare(
            .init(
                corpus: [corpus.directory], vocabPath: vocabPath, seqLen: 32,
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
            XCTAssertEqual(labels(two, index, 2), e0)
            XCTAssertEqual(labels(two, index, 3), e1)
            XCTAssertEqual(labels(two, index, 1), e1)
            if e1 != e0 { freshDiffers += 1 }
            if labels(two, index, 1) != labels(two, index, 2) { twoDiffersAtOddEpochs += 1 }
        }
        XCTAssertGreaterThan(freshDiffers, fresh.count / 2, "without a cycle the masks change with the epoch")
        XCTAssertGreaterThan(twoDiffersAtOddEpochs, fresh.count / 2)
    }
    /// Token masking as it was before `--mask words` existed, pinned bit for bit: an FNV-1a digest of the
    /// input ids and labels of 500 sequences (lengths and contents varied, specials interleaved) through the
    /// default masker. The digest was recorded from the masker before the whole-word mode was added.
    func testTokenMaskingIsPinnedBitForBit() {
        let masker = MLMMasker(specialIds: [0, 100, 101, 102, 103], padId: 0, maskId: 103, vocabSize: 1000, seed: 42)
        var rng = SplitMix(seed: 77)
        let n = 64
        var tokens = [Int32](repeating: 0, count: n), input = tokens, labels = tokens
        var digest = FNV1a64()
        for index in 0..<500 {
            for i in 0..<n { tokens[i] = Int32(rng.next() % 1000) }
            tokens[0] = 101
            tokens[n / 2] = 102
            for i in (n - Int(rng.next() % 20))..<n { tokens[i] = 0 }
            masker.mask(tokens: tokens, length: n, epoch: index % 3, globalIndex: index, inputIds: &input, labels: &labels)
            input.withUnsafeBytes { digest.update($0) }
            labels.withUnsafeBytes { digest.update($0) }
        }
        XCTAssertEqual(digest.hex, "f5e6a18e3d8e6cd8")
    }

    // MARK: whole-word masking

    /// A 1,000-id vocabulary for the whole-word tests: specials at 0 and 100…103, ids 600… are `##` pieces.
    static let wordSpecials: Set<Int32> = [0, 100, 101, 102, 103]
    static func wordVocabulary() -> ContinuationPieces {
        ContinuationPieces(tokens: (0..<1000).map { $0 >= 600 ? "##p\($0)" : "w\($0)" })
    }

    /// The words of `tokens` by the definition, written out independently of the masker: a non-special piece
    /// that is not `##` starts a word, a `##` piece extends the word just before it, and one after a special
    /// token or at the start is a word of its own.
    static func words(_ tokens: [Int32], continuation: (Int32) -> Bool, special: (Int32) -> Bool) -> [[Int]] {
        var words: [[Int]] = []
        for (p, t) in tokens.enumerated() where !special(t) {
            if continuation(t), p > 0, !special(tokens[p - 1]), !words.isEmpty, words[words.count - 1].last == p - 1 {
                words[words.count - 1].append(p)
            } else {
                words.append([p])
            }
        }
        return words
    }

    /// A random sequence of length `n`: [CLS], pieces of which about 40% are `##` (some right after [CLS] or
    /// [SEP]), a [SEP] inside, padding at the end; each sequence's content length varies.
    static func wordSequence(_ rng: inout SplitMix, n: Int) -> [Int32] {
        var tokens = [Int32](repeating: 0, count: n)
        let content = n / 2 + Int(rng.next() % UInt64(n / 2 - 1))
        tokens[0] = 101
        for i in 1...content {
            repeat {
                tokens[i] = rng.next() % 10 < 4 ? Int32(600 + rng.next() % 400) : Int32(rng.next() % 600)
            } while wordSpecials.contains(tokens[i])
        }
        tokens[content / 2] = 102
        if content + 1 < n { tokens[content + 1] = 102 }
        return tokens
    }

    /// The whole-word property over 3,000 sequences: every word is masked whole or not at all, specials never,
    /// a masked piece keeps its label and gets 80/10/10 corruption, no sequence exceeds its budget
    /// round(0.15·n) (n = its non-special tokens), and the rate over all tokens is 15% within a binomial bound.
    ///
    /// The bound: token masking selects each of the N non-special tokens with p = 0.15 independently, so its count
    /// is Binomial(N, p) with standard deviation √(N·p·(1−p)); whole-word masking fills each sequence's budget
    /// round(p·n) (rounding errors of at most ½ token that cancel over varied n) less a shortfall when no remaining
    /// word fits, a smaller spread than the binomial's. We require |rate − p| ≤ 4·√(p(1−p)/N): with N ≈ 280,000
    /// tokens that is ±0.27 points, which a binomial count leaves with probability 6·10⁻⁵.
    func testWholeWordMaskingNeverSplitsAWordAndKeepsTheRate() {
        let pieces = Self.wordVocabulary()
        let masker = MLMMasker(
            specialIds: Array(Self.wordSpecials), padId: 0, maskId: 103, vocabSize: 1000, seed: 11,
            wholeWords: pieces)
        XCTAssertEqual(masker.mode, .words)
        var rng = SplitMix(seed: 9)
        let n = 128
        var input = [Int32](repeating: 0, count: n), labels = input
        var eligible = 0, selected = 0, masked = 0, kept = 0, multiPieceMasked = 0, budgets = 0
        for index in 0..<3000 {
            let tokens = Self.wordSequence(&rng, n: n)
            masker.mask(tokens: tokens, length: n, epoch: 1, globalIndex: index, inputIds: &input, labels: &labels)
            let words = Self.words(tokens, continuation: { pieces.contains($0) }, special: { Self.wordSpecials.contains($0) })
            var here = 0
            for word in words {
                let chosen = word.map { labels[$0] != -100 }
                XCTAssertTrue(chosen.allSatisfy { $0 } || chosen.allSatisfy { !$0 }, "sample \(index): word \(word) partly masked")
                if chosen[0] { here += word.count }
                if chosen[0] && word.count > 1 { multiPieceMasked += 1 }
            }
            for p in 0..<n {
                if Self.wordSpecials.contains(tokens[p]) {
                    XCTAssertEqual(labels[p], -100)
                    XCTAssertEqual(input[p], tokens[p])
                    continue
                }
                eligible += 1
                if labels[p] == -100 {
                    XCTAssertEqual(input[p], tokens[p])
                    continue
                }
                XCTAssertEqual(labels[p], tokens[p])
                selected += 1
                if input[p] == 103 { masked += 1 } else if input[p] == tokens[p] { kept += 1 }
            }
            let content = tokens.filter { !Self.wordSpecials.contains($0) }.count
            let budget = max(1, Int((Double(content) * 0.15).rounded(.toNearestOrEven)))
            budgets += budget
            XCTAssertLessThanOrEqual(here, budget, "sample \(index) masks more than its budget")
            XCTAssertGreaterThan(here, 0, "every sample has a loss")
        }
        XCTAssertGreaterThan(multiPieceMasked, 1000, "words of several pieces are masked")
        let p = 0.15, N = Double(eligible)
        XCTAssertEqual(Double(selected) / N, p, accuracy: 4 * (p * (1 - p) / N).squareRoot())
        XCTAssertGreaterThan(Double(selected), 0.99 * Double(budgets), "the budgets are (nearly) filled")
        XCTAssertEqual(Double(masked) / Double(selected), 0.8, accuracy: 0.01)
        XCTAssertEqual(Double(kept) / Double(selected), 0.1, accuracy: 0.01)
    }

    /// Whole-word masks are a function of (seed, epoch, sample index) alone: a second masker gives the same
    /// masks in any order, in place or not; another epoch, sample index or seed gives other masks; a sequence
    /// of specials only is left alone; one whose only word is longer than its budget is masked whole.
    func testWholeWordMasksAreKeyedBySeedEpochAndSample() {
        let pieces = Self.wordVocabulary(), specials = Array(Self.wordSpecials)
        func masker(_ seed: UInt64) -> MLMMasker {
            MLMMasker(specialIds: specials, padId: 0, maskId: 103, vocabSize: 1000, seed: seed, wholeWords: pieces)
        }
        let a = masker(5), b = masker(5), other = masker(6)
        var rng = SplitMix(seed: 3)
        let n = 64
        let sequences = (0..<200).map { _ in Self.wordSequence(&rng, n: n) }
        func masks(_ m: MLMMasker, _ tokens: [Int32], epoch: Int, index: Int) -> [Int32] {
            var input = [Int32](repeating: 0, count: n), labels = input
            m.mask(tokens: tokens, length: n, epoch: epoch, globalIndex: index, inputIds: &input, labels: &labels)
            return input + labels
        }
        var epochDiffers = 0, indexDiffers = 0, seedDiffers = 0
        for (index, tokens) in sequences.enumerated().reversed() {
            let first = masks(a, tokens, epoch: 2, index: index)
            XCTAssertEqual(masks(b, tokens, epoch: 2, index: index), first)
            var inPlace = tokens, labels = [Int32](repeating: 0, count: n)
            inPlace.withUnsafeMutableBufferPointer { ids in
                a.mask(tokens: ids.baseAddress!, length: n, epoch: 2, globalIndex: index, inputIds: ids.baseAddress!, labels: &labels)
            }
            XCTAssertEqual(inPlace + labels, first, "in-place masking")
            if masks(a, tokens, epoch: 3, index: index) != first { epochDiffers += 1 }
            if masks(a, tokens, epoch: 2, index: index + 1000) != first { indexDiffers += 1 }
            if masks(other, tokens, epoch: 2, index: index) != first { seedDiffers += 1 }
        }
        XCTAssertGreaterThan(epochDiffers, 190)
        XCTAssertGreaterThan(indexDiffers, 190)
        XCTAssertGreaterThan(seedDiffers, 190)

        var input = [Int32](repeating: 0, count: 6), labels = input
        let onlySpecials: [Int32] = [101, 102, 0, 0, 0, 0]
        a.mask(tokens: onlySpecials, length: 6, epoch: 0, globalIndex: 0, inputIds: &input, labels: &labels)
        XCTAssertEqual(input, onlySpecials)
        XCTAssertEqual(labels, [Int32](repeating: -100, count: 6))
        let oneLongWord: [Int32] = [101, 7, 601, 602, 102, 0]
        a.mask(tokens: oneLongWord, length: 6, epoch: 0, globalIndex: 0, inputIds: &input, labels: &labels)
        XCTAssertEqual(labels, [-100, 7, 601, 602, -100, -100], "a word beyond the budget of 1 is masked whole")
    }

    /// The masks of a real dataset (a learned WordPiece vocabulary, documents cut at any piece) never split a
    /// word, with the words found from the vocabulary's strings, and two readers of the dataset agree on them.
    func testWholeWordMasksOfAPreparedDataset() throws {
        let corpus = GeneratedCorpus()
        let vocabPath = try learnVocabulary(corpus)
        let out = makeTempDirectory("out") + "/ds"
        try DatasetPreparer.prepare(
            .init(
                corpus: [corpus.directory], vocabPath: vocabPath, seqLen: 32,
                outDirectory: out, validationFraction: 0.2), warn: { _ in })
        let vocab = try Vocabulary(path: vocabPath)
        let special = Set(vocab.specialIds)
        let a = MaskedDatasetSamples(
            dataset: try ShardedDataset(directory: out), split: .train,
            masker: MLMMasker(vocabulary: vocab, seed: 99, mode: .words))
        let b = MaskedDatasetSamples(
            dataset: try ShardedDataset(directory: out), split: .train,
            masker: MLMMasker(vocabulary: vocab, seed: 99, mode: .words))
        let n = a.seqLen
        var ia = [Int32](repeating: 0, count: n), ta = ia, ma = ia, la = ia
        var ib = ia, tb = ia, mb = ia, lb = ia
        var multiPiece = 0
        for index in (0..<a.count).reversed() {
            a.fill(index: index, epoch: 1, inputIds: &ia, tokenTypeIds: &ta, attentionMask: &ma, labels: &la)
            b.fill(index: index, epoch: 1, inputIds: &ib, tokenTypeIds: &tb, attentionMask: &mb, labels: &lb)
            XCTAssertEqual(ia, ib)
            XCTAssertEqual(la, lb)
            var raw = [Int32](repeating: 0, count: n)
            raw.withUnsafeMutableBufferPointer { a.dataset.copySequence(.train, index: index, into: $0.baseAddress!) }
            let words = Self.words(raw, continuation: { vocab.token(for: $0).hasPrefix("##") }, special: { special.contains($0) })
            for word in words {
                let chosen = word.map { la[$0] != -100 }
                XCTAssertTrue(chosen.allSatisfy { $0 } || chosen.allSatisfy { !$0 }, "sample \(index): word \(word) partly masked")
                if chosen[0] && word.count > 1 { multiPiece += 1 }
            }
        }
        XCTAssertGreaterThan(multiPiece, 0, "some masked words have several pieces")
    }

    /// The vocabulary's continuation bitmap marks exactly the tokens spelled with a leading "##".
    func testContinuationPiecesFollowTheVocabularyStrings() throws {
        let vocab = try Vocabulary(path: referenceVocabularyPath())
        let pieces = vocab.continuationPieces
        XCTAssertEqual(pieces.count, vocab.count)
        for id in 0..<vocab.count {
            XCTAssertEqual(pieces.contains(Int32(id)), vocab.tokens[id].hasPrefix("##"), vocab.tokens[id])
        }
        XCTAssertGreaterThan((0..<vocab.count).filter { pieces.contains(Int32($0)) }.count, 0)
        XCTAssertFalse(pieces.contains(-1))
        XCTAssertFalse(pieces.contains(Int32(vocab.count)))
    }
}
