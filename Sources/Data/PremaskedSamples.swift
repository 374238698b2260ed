import Foundation

/// Pre-masked samples from a JSON Lines file, used exactly as given. Each non-blank line is
/// `{"input_ids": [...], "labels": [...], "token_type_ids"?: [...], "attention_mask"?: [...]}`.
/// Lines are validated (equal lengths, ids in range, labels -100 or in range) and padded to a
/// common `seqLen` with [PAD] / label -100 / attention 0 / token type 0. A missing
/// attention_mask defaults to 1 on every given position; missing token_type_ids to 0.
public struct PremaskedSamples: MLMSampleSource, Sendable {
    public let count: Int
    public let seqLen: Int
    private let inputIds: [Int32]
    private let tokenTypeIds: [Int32]
    private let attentionMask: [Int32]
    private let labels: [Int32]

    /// Loads `path`. `seqLen` nil means the longest sample's length; samples longer than a
    /// given `seqLen` are an error.
    public init(path: String, vocabSize: Int, padId: Int32, seqLen: Int? = nil) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileManager.default.fileExists(atPath: path)
                ? DataError.unreadable(path: path, reason: "read failed")
                : DataError.fileNotFound(path: path)
        }
        struct Row { var ids, types, mask, labels: [Int32] }
        var rows: [Row] = []
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        for (i, raw) in lines.enumerated() {
            let lineNo = i + 1
            if raw.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            func fail(_ reason: String) -> DataError { .malformedPremaskedLine(path: path, line: lineNo, reason: reason) }
            guard let object = try? JSONSerialization.jsonObject(with: Data(raw)), let dict = object as? [String: Any] else {
                throw fail("not a JSON object")
            }
            func ints(_ name: String, required: Bool) throws -> [Int32]? {
                guard let value = dict[name] else {
                    if required { throw fail("missing \"\(name)\"") }
                    return nil
                }
                guard let array = value as? [Any] else { throw fail("\"\(name)\" is not an array") }
                return try array.enumerated().map { j, v in
                    guard let n = v as? NSNumber, let x = Int32(exactly: n.doubleValue) else {
                        throw fail("\"\(name)\"[\(j)] is not a 32-bit integer")
                    }
                    return x
                }
            }
            let ids = try ints("input_ids", required: true)!
            let labels = try ints("labels", required: true)!
            let types = try ints("token_type_ids", required: false) ?? Array(repeating: 0, count: ids.count)
            let mask = try ints("attention_mask", required: false) ?? Array(repeating: 1, count: ids.count)
            if ids.isEmpty { throw fail("empty input_ids") }
            for (name, arr) in [("labels", labels), ("token_type_ids", types), ("attention_mask", mask)] where arr.count != ids.count {
                throw fail("\"\(name)\" has \(arr.count) entries, input_ids has \(ids.count)")
            }
            if let j = ids.firstIndex(where: { $0 < 0 || Int($0) >= vocabSize }) {
                throw fail("input_ids[\(j)] = \(ids[j]) outside 0..<\(vocabSize)")
            }
            if let j = labels.firstIndex(where: { $0 != MLMMasker.ignoreLabel && ($0 < 0 || Int($0) >= vocabSize) }) {
                throw fail("labels[\(j)] = \(labels[j]) is neither -100 nor in 0..<\(vocabSize)")
            }
            if let j = types.firstIndex(where: { $0 != 0 && $0 != 1 }) { throw fail("token_type_ids[\(j)] = \(types[j]) is not 0 or 1") }
            if let j = mask.firstIndex(where: { $0 != 0 && $0 != 1 }) { throw fail("attention_mask[\(j)] = \(mask[j]) is not 0 or 1") }
            if let limit = seqLen, ids.count > limit { throw fail("\(ids.count) tokens exceed seqLen \(limit)") }
            rows.append(Row(ids: ids, types: types, mask: mask, labels: labels))
        }
        if rows.isEmpty { throw DataError.noUsableText(corpus: [path]) }
        let n = seqLen ?? rows.map(\.ids.count).max()!
        guard DatasetPreparer.seqLenRange.contains(n) || seqLen == nil else { throw DataError.invalidSequenceLength(n) }
        var allIds = [Int32](), allTypes = [Int32](), allMask = [Int32](), allLabels = [Int32]()
        for r in rows {
            let padCount = n - r.ids.count
            allIds += r.ids + Array(repeating: padId, count: padCount)
            allTypes += r.types + Array(repeating: 0, count: padCount)
            allMask += r.mask + Array(repeating: 0, count: padCount)
            allLabels += r.labels + Array(repeating: MLMMasker.ignoreLabel, count: padCount)
        }
        self.count = rows.count
        self.seqLen = n
        self.inputIds = allIds
        self.tokenTypeIds = allTypes
        self.attentionMask = allMask
        self.labels = allLabels
    }

    /// Copies sample `index`; `epoch` is ignored (the masks are fixed by the file).
    public func fill(
        index: Int, epoch: Int, inputIds: UnsafeMutablePointer<Int32>,
        tokenTypeIds: UnsafeMutablePointer<Int32>, attentionMask: UnsafeMutablePointer<Int32>,
        labels: UnsafeMutablePointer<Int32>
    ) {
        let offset = index * seqLen
        self.inputIds.withUnsafeBufferPointer { inputIds.update(from: $0.baseAddress! + offset, count: seqLen) }
        self.tokenTypeIds.withUnsafeBufferPointer { tokenTypeIds.update(from: $0.baseAddress! + offset, count: seqLen) }
        self.attentionMask.withUnsafeBufferPointer { attentionMask.update(from: $0.baseAddress! + offset, count: seqLen) }
        self.labels.withUnsafeBufferPointer { labels.update(from: $0.baseAddress! + offset, count: seqLen) }
    }
}
