import Foundation

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
