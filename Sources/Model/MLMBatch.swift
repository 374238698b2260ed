import Core

/// A batch of MLM samples: `count` sequences of length `seqLen`, every array row-major `[count * seqLen]`.
public struct MLMBatch: Sendable {
    /// Number of sequences B.
    public var count: Int
    /// Tokens per sequence T (the same for every sequence; shorter ones are padded).
    public var seqLen: Int
    /// Token ids, `[B*T]`.
    public var inputIds: [Int32]
    /// Segment ids, `[B*T]`.
    public var tokenTypeIds: [Int32]
    /// 1 = attend to this position, 0 = padding, `[B*T]`.
    public var attentionMask: [Int32]
    /// Target token id at masked positions, `MLMBatch.ignoredLabel` (-100) elsewhere, `[B*T]`.
    public var labels: [Int32]
    /// Global index of each sample in the dataset, `[B]`; keys dropout so a sample's masks do not
    /// depend on which rank or batch slot processes it.
    public var sampleIndices: [Int]

    /// Label value meaning "not predicted" (PyTorch's cross-entropy `ignore_index`).
    public static let ignoredLabel: Int32 = -100

    /// A batch of zero ids and token types, mask all 1, labels all -100, indices `0..<count`.
    public init(count: Int, seqLen: Int) {
        self.count = count
        self.seqLen = seqLen
        inputIds = Array(repeating: 0, count: count * seqLen)
        tokenTypeIds = Array(repeating: 0, count: count * seqLen)
        attentionMask = Array(repeating: 1, count: count * seqLen)
        labels = Array(repeating: MLMBatch.ignoredLabel, count: count * seqLen)
        sampleIndices = Array(0..<count)
    }

    /// Number of positions with a label (the rows the MLM head runs on).
    public var maskedTokenCount: Int { labels.reduce(0) { $0 + ($1 == MLMBatch.ignoredLabel ? 0 : 1) } }

    /// Samples `indices` of this batch, in that order, as a new batch.
    public func subset(_ indices: [Int]) -> MLMBatch {
        var out = MLMBatch(count: indices.count, seqLen: seqLen)
        for (slot, b) in indices.enumerated() {
            let src = b * seqLen, dst = slot * seqLen
            for t in 0..<seqLen {
                out.inputIds[dst + t] = inputIds[src + t]
                out.tokenTypeIds[dst + t] = tokenTypeIds[src + t]
                out.attentionMask[dst + t] = attentionMask[src + t]
                out.labels[dst + t] = labels[src + t]
            }
            out.sampleIndices[slot] = sampleIndices[b]
        }
        return out
    }

    /// The first problem that would make this batch invalid for `config`, or nil.
    public func validationError(for config: BertConfig) -> BatchError? {
        let n = count * seqLen
        if count < 0 || seqLen <= 0 { return .shape("count \(count) and seqLen \(seqLen) must be positive") }
        if seqLen > config.maxPositions {
            return .shape("seqLen \(seqLen) exceeds the model's \(config.maxPositions) positions")
        }
        for (name, array) in [
            ("inputIds", inputIds), ("tokenTypeIds", tokenTypeIds),
            ("attentionMask", attentionMask), ("labels", labels)
        ] where array.count != n {
            return .shape("\(name) has \(array.count) entries, expected \(n)")
        }
        if sampleIndices.count != count {
            return .shape("sampleIndices has \(sampleIndices.count) entries, expected \(count)")
        }
        for i in 0..<n {
            if inputIds[i] < 0 || Int(inputIds[i]) >= config.vocabSize {
                return .value(field: "inputIds", position: i, value: Int(inputIds[i]), expected: "0..<\(config.vocabSize)")
            }
            if tokenTypeIds[i] < 0 || Int(tokenTypeIds[i]) >= config.typeVocabSize {
                return .value(
                    field: "tokenTypeIds", position: i, value: Int(tokenTypeIds[i]),
                    expected: "0..<\(config.typeVocabSize)")
            }
            if attentionMask[i] != 0 && attentionMask[i] != 1 {
                return .value(field: "attentionMask", position: i, value: Int(attentionMask[i]), expected: "0 or 1")
            }
            let l = labels[i]
            if l != MLMBatch.ignoredLabel && (l < 0 || Int(l) >= config.vocabSize) {
                return .value(field: "labels", position: i, value: Int(l), expected: "-100 or 0..<\(config.vocabSize)")
            }
        }
        return nil
    }
}
