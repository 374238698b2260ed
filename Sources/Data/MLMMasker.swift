import Core

/// BERT masked-language-model corruption applied at load time.
///
/// Each non-special position is selected with `probability` (0.15); a selected position gets
/// [MASK] 80% of the time, a uniformly random non-special token 10%, and keeps its token 10%.
/// Labels hold the original id at selected positions and -100 elsewhere. All randomness is a
/// counter hash of (seed, epoch, globalIndex, position), so a sample is masked identically
/// whichever rank or reader produces it. A sequence with at least one maskable token always
/// gets at least one selected position (chosen by the same hash), so every sample has a loss.
///
/// With whole-word masking (`MaskingMode.words`) the draw is over words instead, as HuggingFace's
/// `DataCollatorForWholeWordMask` and Google's BERT do it: a word is a piece that does not start with `##` and
/// the `##` pieces right after it (a `##` piece after a special token or at position 0 starts a word of its
/// own). The words are taken in a random order (Fisher–Yates swaps keyed by (seed, epoch, globalIndex, draw),
/// `RandomStream.wholeWordOrder`); a word is masked whole when it fits the budget of round(n × probability)
/// tokens, n the non-special tokens (at least 1), and skipped when it would exceed it; the drawing stops at the
/// budget. Each masked piece then gets the same 80/10/10 corruption as a token-masked one. A sequence whose
/// every word is longer than the budget gets its first drawn word, so every sample still has a loss.
public struct MLMMasker: Sendable {
    /// Label value of positions that do not contribute to the loss (PyTorch's ignore_index).
    public static let ignoreLabel: Int32 = -100

    public let vocabSize: Int
    public let probability: Double
    public let seed: UInt64
    public let maskId: Int32
    public let padId: Int32
    /// Ids never selected nor drawn as random replacements, ascending.
    public let specialIds: [Int32]
    /// The continuation pieces of the vocabulary under whole-word masking; nil masks tokens.
    public let wholeWords: ContinuationPieces?
    private let s0: Int32, s1: Int32, s2: Int32, s3: Int32, s4: Int32

    /// `specialIds` must contain padId and maskId (plus [CLS] [SEP] [UNK]); all must be < vocabSize.
    /// `wholeWords` (the vocabulary's `continuationPieces`) selects whole-word masking.
    public init(
        specialIds: [Int32], padId: Int32, maskId: Int32, vocabSize: Int,
        probability: Double = 0.15, seed: UInt64, wholeWords: ContinuationPieces? = nil
    ) {
        let sorted = Array(Set(specialIds + [padId, maskId])).sorted()
        precondition(sorted.count <= 5 && vocabSize > sorted.count, "MLMMasker needs ≤ 5 special ids and a larger vocabulary")
        self.specialIds = sorted
        let padded = sorted + Array(repeating: sorted.last!, count: 5 - sorted.count)
        s0 = padded[0]
        s1 = padded[1]
        s2 = padded[2]
        s3 = padded[3]
        s4 = padded[4]
        self.padId = padId
        self.maskId = maskId
        self.vocabSize = vocabSize
        self.probability = probability
        self.seed = seed
        self.wholeWords = wholeWords
    }

    /// Masker for `vocabulary`'s special tokens, masking single tokens or (`.words`) whole words.
    public init(vocabulary: Vocabulary, probability: Double = 0.15, seed: UInt64, mode: MaskingMode = .tokens) {
        self.init(
            specialIds: vocabulary.specialIds, padId: vocabulary.padId, maskId: vocabulary.maskId,
            vocabSize: vocabulary.count, probability: probability, seed: seed,
            wholeWords: mode == .words ? vocabulary.continuationPieces : nil)
    }

    /// Whether single tokens or whole words are drawn.
    public var mode: MaskingMode { wholeWords == nil ? .tokens : .words }

    @inline(__always)
    public func isSpecial(_ t: Int32) -> Bool { t == s0 || t == s1 || t == s2 || t == s3 || t == s4 }

    @inline(__always)
    private func key(_ epoch: Int, _ index: Int, _ position: Int, _ stream: RandomStream) -> UInt64 {
        CounterHash.hash(
            seed, UInt64(bitPattern: Int64(epoch)), UInt64(bitPattern: Int64(index)),
            UInt64(bitPattern: Int64(position)), stream.rawValue)
    }

    /// Corruption of one selected position.
    @inline(__always)
    private func corrupt(_ token: Int32, epoch: Int, index: Int, position: Int) -> Int32 {
        let u = CounterHash.unit(key(epoch, index, position, .maskCorruption))
        if u < 0.8 { return maskId }
        if u < 0.9 {
            // Uniform over non-special ids: draw from [0, vocabSize - #specials) and skip over specials.
            var r = Int32(truncatingIfNeeded: key(epoch, index, position, .maskReplacement) % UInt64(vocabSize - specialIds.count))
            for s in specialIds where r >= s { r += 1 }
            return r
        }
        return token
    }

    /// Masks `tokens[0..<length]` into `inputIds`/`labels` (both `length` long).
    /// `inputIds` may alias `tokens` (in-place masking). Allocation-free.
    public func mask(
        tokens: UnsafePointer<Int32>, length: Int, epoch: Int, globalIndex: Int,
        inputIds: UnsafeMutablePointer<Int32>, labels: UnsafeMutablePointer<Int32>
    ) {
        if let wholeWords {
            maskWords(
                tokens: tokens, length: length, epoch: epoch, globalIndex: globalIndex, inputIds: inputIds, labels: labels,
                continuation: wholeWords)
            return
        }
        var eligible = 0
        var selected = 0
        for p in 0..<length {
            let t = tokens[p]
            if isSpecial(t) {
                labels[p] = Self.ignoreLabel
                inputIds[p] = t
                continue
            }
            eligible += 1
            if CounterHash.unit(key(epoch, globalIndex, p, .maskSelection)) < probability {
                selected += 1
                labels[p] = t
                inputIds[p] = corrupt(t, epoch: epoch, index: globalIndex, position: p)
            } else {
                labels[p] = Self.ignoreLabel
                inputIds[p] = t
            }
        }
        if selected == 0 && eligible > 0 {
            // Unselected positions still hold their original token in inputIds (even when aliased).
            var k = Int(key(epoch, globalIndex, -1, .maskFallback) % UInt64(eligible))
            for p in 0..<length where !isSpecial(inputIds[p]) {
                if k == 0 {
                    let t = inputIds[p]
                    labels[p] = t
                    inputIds[p] = corrupt(t, epoch: epoch, index: globalIndex, position: p)
                    break
                }
                k -= 1
            }
        }
    }

    /// Whole-word masking of `tokens[0..<length]` (the type's comment says how). The words (first position,
    /// piece count) are listed before any position is corrupted, in scratch space on the stack, so that
    /// in-place masking never reads a replaced token as a boundary.
    private func maskWords(
        tokens: UnsafePointer<Int32>, length: Int, epoch: Int, globalIndex: Int,
        inputIds: UnsafeMutablePointer<Int32>, labels: UnsafeMutablePointer<Int32>,
        continuation: ContinuationPieces
    ) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * max(length, 1)) { scratch in
            let starts = scratch.baseAddress!, counts = starts + length
            var words = 0, eligible = 0
            for p in 0..<length {
                let t = tokens[p]
                labels[p] = Self.ignoreLabel
                inputIds[p] = t
                if isSpecial(t) { continue }
                eligible += 1
                if continuation.contains(t) && words > 0 && Int(starts[words - 1] + counts[words - 1]) == p {
                    counts[words - 1] += 1
                } else {
                    starts[words] = Int32(p)
                    counts[words] = 1
                    words += 1
                }
            }
            guard words > 0 else { return }
            let budget = max(1, Int((Double(eligible) * probability).rounded(.toNearestOrEven)))
            func maskWord(_ w: Int) {
                for p in Int(starts[w])..<Int(starts[w] + counts[w]) {
                    labels[p] = inputIds[p]
                    inputIds[p] = corrupt(inputIds[p], epoch: epoch, index: globalIndex, position: p)
                }
            }
            var selected = 0, draw = 0
            while draw < words && selected < budget {
                let j = draw + Int(key(epoch, globalIndex, draw, .wholeWordOrder) % UInt64(words - draw))
                (starts[draw], starts[j]) = (starts[j], starts[draw])
                (counts[draw], counts[j]) = (counts[j], counts[draw])
                let n = Int(counts[draw])
                if selected + n <= budget {
                    maskWord(draw)
                    selected += n
                }
                draw += 1
            }
            if selected == 0 { maskWord(0) }
        }
    }
}
