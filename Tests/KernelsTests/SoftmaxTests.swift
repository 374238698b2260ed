import Kernels
import XCTest

final class SoftmaxTests: XCTestCase {
    func softmax(_ x: [Float], rows: Int, cols: Int, scale: Float, bias: [Float]?) -> [Float] {
        var x = x, y = [Float](repeating: 0, count: x.count)
        if var bias {
            x.ptr { xp in
                y.ptr { yp in
                    bias.ptr { bp in
                        Softmax.forward(x: xp, y: yp, rows: rows, columns: cols, scale: scale, columnBias: bp)
                    }
                }
            }
        } else {
            x.ptr { xp in y.ptr { yp in Softmax.forward(x: xp, y: yp, rows: rows, columns: cols, scale: scale) } }
        }
        return y
    }

    func testMatchesDoubleReferenceAndMasks() {
        var rng = TestRandom(3)
        // 6 columns: the scalar tail only; 19: two eight-lane blocks and a tail, masks in both.
        for cols in [6, 19] {
            let rows = 3
            let x = rng.array(rows * cols, scale: 3)
            let bias: [Float] = (0..<cols).map { [2, 4, 9, 17].contains($0) ? Softmax.maskedBias : 0 }
            let y = softmax(x, rows: rows, cols: cols, scale: 0.7, bias: bias)
            for r in 0..<rows {
                let z = (0..<cols).map { c in bias[c] != 0 ? -Double.infinity : 0.7 * Double(x[r * cols + c]) }
                let m = z.max()!, s = z.map { exp($0 - m) }.reduce(0, +)
                for c in 0..<cols { XCTAssertEqual(Double(y[r * cols + c]), exp(z[c] - m) / s, accuracy: 1e-6) }
                for c in 0..<cols where bias[c] != 0 { XCTAssertEqual(y[r * cols + c], 0) }
            }
        }
    }

    func testHugeValuesAreStable() {
        let x: [Float] = [1e30, 1e30, -1e30, 3e38, 3e38, 0, -Float.infinity, -Float.infinity, -Float.infinity]
        let y = softmax(x, rows: 3, cols: 3, scale: 1, bias: nil)
        XCTAssertTrue(y.allSatisfy { $0.isFinite })
        XCTAssertEqual(y[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(y[1], 0.5, accuracy: 1e-6)
        XCTAssertEqual(y[2], 0)
        XCTAssertEqual(y[3], 0.5, accuracy: 1e-6)
        XCTAssertEqual(y[5], 0)
        for c in 6..<9 { XCTAssertEqual(y[c], 1.0 / 3, accuracy: 1e-6) }  // all -inf: uniform, not NaN
        // The same through the eight-lane path, and a row whose maximum sits in the tail.
        let wide = softmax(
            [Float](repeating: -.infinity, count: 11) + [Float](repeating: 0, count: 10) + [3e38],
            rows: 2, cols: 11, scale: 1, bias: nil)
        for c in 0..<11 { XCTAssertEqual(wide[c], 1.0 / 11, accuracy: 1e-6) }
        XCTAssertEqual(wide[21], 1)
        XCTAssertEqual(wide[11], 0)
        // Masked large negatives added to huge scores stay finite in the output.
        let z = softmax([1e4, -1e4, 5], rows: 1, cols: 3, scale: 1, bias: [Softmax.maskedBias, 0, 0])
        XCTAssertEqual(z[0], 0)
        XCTAssertEqual(z[2], 1, accuracy: 1e-6)
    }

    func testBackwardMatchesFiniteDifferences() {
        var rng = TestRandom(4)
        for cols in [5, 13] {  // the scalar tail only; one eight-lane block and a tail
            let rows = 4, scale: Float = 0.8
            var x = rng.array(rows * cols, scale: 2)
            var r = rng.array(rows * cols)
            let bias: [Float] = (0..<cols).map { $0 == 1 || $0 == 10 ? Softmax.maskedBias : 0 }
            var y = softmax(x, rows: rows, cols: cols, scale: scale, bias: bias)
            var dx = [Float](repeating: 0, count: x.count)
            y.ptr { yp in
                r.ptr { rp in
                    dx.ptr { dp in
                        Softmax.backward(y: yp, dy: rp, dx: dp, rows: rows, columns: cols, scale: scale)
                    }
                }
            }
            assertGradient("softmax dx, \(cols) columns", &x, analytic: dx) {
                project(self.softmax($0, rows: rows, cols: cols, scale: scale, bias: bias), r)
            }
        }
    }
}
