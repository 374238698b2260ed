/// A rolling window of the last `capacity` candidate scores, oldest first.
///
/// It is built from the allgathered pool scores, so it is the same on every rank, and it is saved in
/// checkpoints so that a resumed run selects exactly as an uninterrupted one.
public struct ScoreHistory: Sendable, Equatable, Codable {
    public let capacity: Int
    public private(set) var values: [Float]

    public init(capacity: Int, values: [Float] = []) {
        precondition(capacity >= 1, "history capacity must be at least 1")
        self.capacity = capacity
        self.values = Array(values.suffix(capacity))
    }

    /// Appends `scores` in order, dropping the oldest beyond `capacity`.
    public mutating func append(_ scores: [Float]) {
        values.append(contentsOf: scores)
        if values.count > capacity { values.removeFirst(values.count - capacity) }
    }

    /// Mid-rank percentile of each score within the history: (#values < x + ½·#values == x) / count,
    /// in (0, 1] when x is in the history. An empty history gives ½ for every score.
    public func percentiles(of scores: [Float]) -> [Double] {
        guard !values.isEmpty else { return scores.map { _ in 0.5 } }
        let sorted = values.sorted()
        let n = Double(sorted.count)
        return scores.map { x in
            let below = lowerBound(sorted, x), upTo = upperBound(sorted, x)
            return (Double(below) + 0.5 * Double(upTo - below)) / n
        }
    }

    private func lowerBound(_ a: [Float], _ x: Float) -> Int {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    private func upperBound(_ a: [Float], _ x: Float) -> Int {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
