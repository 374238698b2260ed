import Core
import Foundation

/// Token-level statistics of a prepared dataset split, counted over its packed sequences.
public struct TokenStatistics: Sendable, Equatable, Codable {
    /// Occurrences of each token id (length = vocabulary size), specials included.
    public var counts: [Int]
    /// Content tokens (not [CLS]/[SEP]/[PAD]) counted.
    public var contentTokens: Int
    /// Content tokens that sit inside a run of ≥ `runLength` identical consecutive tokens (within a
    /// sequence). MLM masks content tokens uniformly, so this is the expected share of masked labels
    /// that "copy your neighbour" predicts — reStructuredText underlines (`-----`) are the usual cause.
    public var tokensInRepeatRuns: Int
    public static let runLength = 4

    /// Share of content tokens inside runs of ≥ 4 identical tokens.
    public var repeatRunShare: Double { contentTokens > 0 ? Double(tokensInRepeatRuns) / Double(contentTokens) : 0 }

    /// Counts `split` of `dataset`, restricted to `indices` when given. `special` are the ids not counted
    /// as content ([CLS], [SEP], [PAD]).
    public init(dataset: ShardedDataset, split: DatasetSplit, indices: [Int]? = nil, special: Set<Int32>) {
        var counts = [Int](repeating: 0, count: dataset.vocabSize)
        var content = 0, inRuns = 0
        let T = dataset.seqLen
        let row = UnsafeMutablePointer<Int32>.allocate(capacity: T)
        defer { row.deallocate() }
        func visit(_ index: Int) {
            dataset.copySequence(split, index: index, into: row)
            var runStart = 0
            for i in 0...T {
                if i == T || row[i] != row[runStart] {
                    let id = row[runStart]
                    if !special.contains(id) {
                        content += i - runStart
                        if i - runStart >= Self.runLength { inRuns += i - runStart }
                    }
                    runStart = i
                }
                if i < T, row[i] >= 0, Int(row[i]) < counts.count { counts[Int(row[i])] += 1 }
            }
        }
        if let indices { for i in indices { visit(i) } } else { for i in 0..<dataset.count(split) { visit(i) } }
        self.counts = counts
        contentTokens = content
        tokensInRepeatRuns = inRuns
    }
}

/// A free reference model for reducible-loss selection: the unigram distribution of the training
/// tokens. `negativeLogProbability[id]` is −log p(id) with add-one smoothing, in nats.
public struct UnigramReference: Sendable {
    public let negativeLogProbability: [Float]

    public init(counts: [Int]) {
        let total = Double(counts.reduce(0, +) + counts.count)
        negativeLogProbability = counts.map { Float(-log((Double($0) + 1) / total)) }
    }

    /// Counted over `dataset`'s training sequences (those at `indices` only, when given), without the
    /// [CLS], [SEP] and [PAD] tokens that are never masked: what `sift train` and `sift bench` rank by.
    public init(trainingSplitOf dataset: ShardedDataset, vocabulary: Vocabulary, indices: [Int]? = nil) {
        let special: Set<Int32> = [vocabulary.clsId, vocabulary.sepId, vocabulary.padId]
        self.init(counts: TokenStatistics(dataset: dataset, split: .train, indices: indices, special: special).counts)
    }

    /// Mean −log p over the labelled positions of one sample (labels −100 are skipped); 0 without labels.
    /// - Parameters: labels: `count` label ids of one sequence.
    public func meanLoss(labels: UnsafePointer<Int32>, count: Int) -> Float {
        let (sum, n) = totalLoss(labels: labels, count: count)
        return n > 0 ? Float(sum / Double(n)) : 0
    }

    /// Sum of −log p over the labelled positions of `count` labels (−100 skipped), and how many there were.
    public func totalLoss(labels: UnsafePointer<Int32>, count: Int) -> (sum: Double, positions: Int) {
        var sum = 0.0, n = 0
        for i in 0..<count where labels[i] >= 0 && Int(labels[i]) < negativeLogProbability.count {
            sum += Double(negativeLogProbability[Int(labels[i])])
            n += 1
        }
        return (sum, n)
    }
}

/// A fixed subset of another sample source: `count` of its samples chosen by a counter hash keyed by
/// `key` alone (not the run's seed), so runs with different seeds train on the same subset.
/// Sample i of the subset is sample `indices[i]` of the base (increasing), and the base's masks stay
/// keyed by the base index.
public struct SubsetSamples: MLMSampleSource, @unchecked Sendable {
    public let base: MLMSampleSource
    public let indices: [Int]

    public init(base: MLMSampleSource, count: Int, key: UInt64 = RandomStream.trainSubset.rawValue) {
        precondition(count >= 1 && count <= base.count, "subset size out of range")
        self.base = base
        let ranked = (0..<base.count).map { (CounterHash.hash(key, UInt64($0), RandomStream.trainSubset.rawValue), $0) }.sorted {
            $0.0 < $1.0
        }
        indices = ranked.prefix(count).map { $0.1 }.sorted()
    }

    public var count: Int { indices.count }
    public var seqLen: Int { base.seqLen }

    public func fill(
        index: Int, epoch: Int, inputIds: UnsafeMutablePointer<Int32>,
        tokenTypeIds: UnsafeMutablePointer<Int32>, attentionMask: UnsafeMutablePointer<Int32>,
        labels: UnsafeMutablePointer<Int32>
    ) {
        base.fill(
            index: indices[index], epoch: epoch, inputIds: inputIds, tokenTypeIds: tokenTypeIds,
            attentionMask: attentionMask, labels: labels)
    }
}
