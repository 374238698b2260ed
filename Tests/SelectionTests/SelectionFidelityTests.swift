import Core
import Selection
import XCTest

/// Spearman correlation and top-b overlap against independent formulas and properties.
final class SelectionFidelityTests: XCTestCase {
    func testSpearmanWithoutTiesMatchesClosedForm() {
        for trial in 0..<50 {
            let n = 3 + trial % 20
            // Distinct values: a random permutation scaled, so no ties.
            let a = (0..<n).map { Float(CounterHash.bits(1, UInt64(trial), UInt64($0), 0) % 1_000_000) + Float($0) / 1e7 }
            let b = (0..<n).map { Float(CounterHash.bits(2, UInt64(trial), UInt64($0), 0) % 1_000_000) + Float($0) / 1e7 }
            // 1 - 6 Σ d² / (n (n² - 1)), with ranks computed here by counting.
            func rank(_ v: [Float], _ i: Int) -> Double { Double(v.filter { $0 < v[i] }.count + 1) }
            let d2 = (0..<n).reduce(0.0) { $0 + pow(rank(a, $1) - rank(b, $1), 2) }
            let expected = 1 - 6 * d2 / (Double(n) * (Double(n * n) - 1))
            XCTAssertEqual(SelectionFidelity.spearman(a, b)!, expected, accuracy: 1e-9)
        }
    }

    func testSpearmanWithTiesUsesAverageRanks() {
        // Ranks of a: [1, 2.5, 2.5, 4]; of b: [1, 2, 3, 4]. Pearson of those by hand: 0.9486833 (= 3/√10).
        let r = SelectionFidelity.spearman([1, 2, 2, 3], [10, 20, 30, 40])!
        XCTAssertEqual(r, 3 / 10.0.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(SelectionFidelity.averageRanks([5, 1, 5, 5]), [3, 1, 3, 3])
        XCTAssertNil(SelectionFidelity.spearman([1, 1, 1], [1, 2, 3]))
    }

    func testSpearmanProperties() {
        let a: [Float] = [0.3, 2, -1, 7, 4, 4.5]
        XCTAssertEqual(SelectionFidelity.spearman(a, a)!, 1, accuracy: 1e-12)
        XCTAssertEqual(SelectionFidelity.spearman(a, a.map { -$0 })!, -1, accuracy: 1e-12)
        // Invariant under a strictly increasing transform of either side.
        XCTAssertEqual(SelectionFidelity.spearman(a, a.map { exp($0) })!, 1, accuracy: 1e-12)
    }

    func testTopOverlap() {
        let idx = [10, 11, 12, 13, 14]
        XCTAssertEqual(SelectionFidelity.topOverlap(approximate: [5, 4, 3, 2, 1], exact: [5, 4, 3, 2, 1], globalIndices: idx, count: 2), 1)
        XCTAssertEqual(SelectionFidelity.topOverlap(approximate: [5, 4, 3, 2, 1], exact: [1, 2, 3, 4, 5], globalIndices: idx, count: 2), 0)
        XCTAssertEqual(
            SelectionFidelity.topOverlap(approximate: [5, 4, 3, 2, 1], exact: [5, 1, 4, 2, 3], globalIndices: idx, count: 2), 0.5)
    }

    /// The agreement the trainer logs and the fidelity bench averages: both numbers of one pool at once.
    func testAgreementIsSpearmanAndTopOverlapOfOnePool() {
        let idx = [10, 11, 12, 13, 14]
        let a = SelectionFidelity.agreement(approximate: [5, 4, 3, 2, 1], exact: [5, 1, 4, 2, 3], globalIndices: idx, count: 2)
        XCTAssertEqual(a.topOverlap, 0.5)
        XCTAssertEqual(a.spearman, SelectionFidelity.spearman([5, 4, 3, 2, 1], [5, 1, 4, 2, 3]))
        XCTAssertNil(SelectionFidelity.agreement(approximate: [1, 1, 1], exact: [1, 2, 3], globalIndices: [0, 1, 2], count: 1).spearman)
    }
}
