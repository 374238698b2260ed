import Core

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
