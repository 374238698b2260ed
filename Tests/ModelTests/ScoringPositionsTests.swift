import Model
import XCTest

/// `ScoringPositions.keep`: the subset `sift train --score-positions` scores a candidate from.
final class ScoringPositionsTests: XCTestCase {
    /// A sequence of `count` labels with the positions in `masked` labelled (label = 1000 + position).
    private func labels(count: Int, masked: [Int]) -> [Int32] {
        var l = [Int32](repeating: MLMBatch.ignoredLabel, count: count)
        for t in masked { l[t] = Int32(1000 + t) }
        return l
    }

    func testKeepsExactlyTheLimitFromTheLabelledPositionsAndLeavesTheirLabels() {
        let masked = [3, 7, 8, 20, 21, 40, 55, 63, 90, 127]
        for limit in [1, 4, 9, 10, 20] {
            var l = labels(count: 128, masked: masked)
            let left = l.withUnsafeMutableBufferPointer {
                ScoringPositions.keep(atMost: limit, labels: $0.baseAddress!, count: 128, sample: 17, key: 99)
            }
            let kept = l.indices.filter { l[$0] != MLMBatch.ignoredLabel }
            XCTAssertEqual(left, min(limit, masked.count))
            XCTAssertEqual(kept.count, min(limit, masked.count))
            XCTAssertTrue(Set(kept).isSubset(of: masked))
            for t in kept { XCTAssertEqual(l[t], Int32(1000 + t)) }
        }
    }

    /// The choice depends on (key, sample) only — the same whichever rank or batch slot holds the
    /// sample — and changes with either.
    func testChoiceIsKeyedBySampleAndKey() {
        let masked = Array(stride(from: 1, to: 128, by: 6))
        func choice(sample: Int, key: UInt64) -> [Int] {
            var l = labels(count: 128, masked: masked)
            l.withUnsafeMutableBufferPointer {
                _ = ScoringPositions.keep(atMost: 4, labels: $0.baseAddress!, count: 128, sample: sample, key: key)
            }
            return l.indices.filter { l[$0] != MLMBatch.ignoredLabel }
        }
        XCTAssertEqual(choice(sample: 5, key: 1), choice(sample: 5, key: 1))
        // Inside a batch, at another row: the same positions.
        var batch = MLMBatch(count: 3, seqLen: 128)
        for t in masked { batch.labels[2 * 128 + t] = Int32(1000 + t) }
        batch.labels.withUnsafeMutableBufferPointer {
            _ = ScoringPositions.keep(atMost: 4, labels: $0.baseAddress! + 2 * 128, count: 128, sample: 5, key: 1)
        }
        XCTAssertEqual((0..<128).filter { batch.labels[2 * 128 + $0] != MLMBatch.ignoredLabel }, choice(sample: 5, key: 1))
        let others = (0..<20).map { choice(sample: 6 + $0, key: 1) } + (0..<20).map { choice(sample: 5, key: 2 + UInt64($0)) }
        XCTAssertGreaterThan(Set(others.map { $0.description }).count, 30)
    }

    /// Every labelled position is kept with probability limit/masked over keys (a uniform subset, so
    /// the mean loss over it is unbiased): 4 of 16 over 8,000 keys, each frequency within 5 standard
    /// errors of 0.25.
    func testEveryPositionIsEquallyLikely() {
        let masked = Array(stride(from: 0, to: 128, by: 8))
        var counts = [Int](repeating: 0, count: 128)
        let trials = 8000
        for key in 0..<trials {
            var l = labels(count: 128, masked: masked)
            l.withUnsafeMutableBufferPointer {
                _ = ScoringPositions.keep(atMost: 4, labels: $0.baseAddress!, count: 128, sample: 3, key: UInt64(key))
            }
            for t in 0..<128 where l[t] != MLMBatch.ignoredLabel { counts[t] += 1 }
        }
        let p = 0.25, se = (p * (1 - p) / Double(trials)).squareRoot()
        for t in masked { XCTAssertEqual(Double(counts[t]) / Double(trials), p, accuracy: 5 * se, "position \(t)") }
    }
}
