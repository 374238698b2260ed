import Foundation

/// Selective-Backprop's "stale" variant for SIFT: every training sample's most recent approximate loss
/// and selection score, with the step it was computed at. A candidate whose score is at most `maxAge`
/// steps old is not scored again; its stored score takes part in the selection. In multi-epoch training a
/// sample returns as a candidate about every N/B steps (N samples, pool B), so `maxAge` ≥ N/B removes
/// almost all scoring after the first pass over the data.
///
/// Under `--policy last-loss` the same table holds each sample's training loss (and score) from the last
/// step that backpropagated it, stamped with that step; nothing is ever scored.
///
/// The table is updated from the allgathered pool scores, so it is identical on every rank, and it is
/// saved in checkpoints (compactly, as base64 of the raw values) so resume stays bit-exact.
public struct StaleScoreTable: Sendable, Equatable {
    public let maxAge: Int
    public private(set) var losses: [Float]
    public private(set) var scores: [Float]
    /// Step (0-based) each entry was computed at; −1 where the sample was never scored.
    public private(set) var stamps: [Int32]

    public init(samples: Int, maxAge: Int) {
        precondition(samples >= 0 && maxAge >= 1, "bad stale-score table")
        self.maxAge = maxAge
        losses = [Float](repeating: 0, count: samples)
        scores = losses
        stamps = [Int32](repeating: -1, count: samples)
    }

    /// Whether `sample` must be scored at `step`: never scored, or its score is older than `maxAge` steps.
    public func needsScore(_ sample: Int, step: Int) -> Bool {
        let s = stamps[sample]
        return s < 0 || step - Int(s) > maxAge
    }

    /// Whether `sample` has an entry (it was scored, or for `last-loss` backpropagated, at least once).
    public func isRecorded(_ sample: Int) -> Bool { stamps[sample] >= 0 }

    /// The stored (loss, score) of `sample`.
    public func entry(_ sample: Int) -> (loss: Float, score: Float) { (losses[sample], scores[sample]) }

    /// Stores fresh values computed at `step`.
    public mutating func record(_ sample: Int, loss: Float, score: Float, step: Int) {
        losses[sample] = loss
        scores[sample] = score
        stamps[sample] = Int32(truncatingIfNeeded: step)
    }

    /// The table's state for a checkpoint.
    public struct Snapshot: Codable, Equatable, Sendable {
        public var maxAge: Int
        public var count: Int
        /// base64 of the little-endian Float32 losses, Float32 scores and Int32 stamps.
        public var losses: String
        public var scores: String
        public var stamps: String
    }

    public var snapshot: Snapshot {
        func b64<T>(_ a: [T]) -> String { a.withUnsafeBytes { Data($0).base64EncodedString() } }
        return Snapshot(maxAge: maxAge, count: losses.count, losses: b64(losses), scores: b64(scores), stamps: b64(stamps))
    }

    /// Restores a table from `snapshot`; nil if it does not describe `samples` entries.
    public init?(snapshot: Snapshot, samples: Int) {
        func decode<T>(_ s: String, as: T.Type) -> [T]? {
            guard let d = Data(base64Encoded: s), d.count == samples * MemoryLayout<T>.size else { return nil }
            return d.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
        }
        guard snapshot.count == samples, snapshot.maxAge >= 1,
            let l = decode(snapshot.losses, as: Float.self), let s = decode(snapshot.scores, as: Float.self),
            let t = decode(snapshot.stamps, as: Int32.self)
        else { return nil }
        maxAge = snapshot.maxAge
        losses = l
        scores = s
        stamps = t
    }
}
