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
