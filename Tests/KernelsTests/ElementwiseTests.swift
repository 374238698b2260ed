import Foundation
import Kernels
import XCTest

final class ElementwiseTests: XCTestCase {
    func gelu(_ x: [Float]) -> [Float] {
        var x = x, y = [Float](repeating: 0, count: x.count)
        let n = x.count
        x.ptr { xp in y.ptr { yp in GELU.forward(x: xp, y: yp, count: n) } }
        return y
    }

    func testGELUMatchesDoubleReference() {
        let xs: [Float] = stride(from: -8, through: 8, by: 0.37).map { Float($0) } + [0, 1e-6, -30, 30]
        let y = gelu(xs)
        for (i, x) in xs.enumerated() {
            let ref = 0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot()))
            XCTAssertEqual(Double(y[i]), ref, accuracy: 1e-6 + 1e-6 * abs(ref), "gelu(\(x))")
        }
    }

    /// The rational erf GELU uses, against the C library's erff on 2^21 points of [-6, 6] and the
    /// edges: absolute error ≤ 5e-7 (8 steps of Float near 1; measured 4.2e-7), odd, ±1 beyond ±4, NaN kept by GELU.
    func testRationalErfMatchesTheCLibrary() {
        var worst: Float = 0, at: Float = 0
        let n = 1 << 21
        for i in 0...n {
            let x = -6 + 12 * Float(i) / Float(n)
            let e = abs(erfRational(x) - Foundation.erff(x))
            if e > worst {
                worst = e
                at = x
            }
            XCTAssertEqual(erfRational(-x), -erfRational(x))
        }
        XCTAssertLessThanOrEqual(worst, 5e-7, "worst error \(worst) at \(at)")
        for x: Float in [4, 5, 100, .infinity] { XCTAssertEqual(erfRational(x), 1, accuracy: 1e-7, "erf(\(x))") }
        XCTAssertEqual(erfRational(0), 0)
        XCTAssertTrue(
            gelu([.nan, 1, 2, 3, 4, 5, 6, 7, .nan])[0].isNaN, "GELU must keep a NaN (the trainer's non-finite check relies on it)")
        XCTAssertTrue(gelu([.nan, 1, 2, 3, 4, 5, 6, 7, .nan])[8].isNaN)
    }

    /// The vectorised exp of GELU's backward against the C library's expf on 2^21 points of [−87, 0]
    /// (relative error ≤ 3e-7), 0 below −87 and NaN for NaN.
    func testNegativeExpMatchesTheCLibrary() {
        var worst: Float = 0, at: Float = 0
        let n = 1 << 21
        for i in stride(from: 0, to: n, by: 8) {
            var x = SIMD8<Float>()
            for lane in 0..<8 { x[lane] = -87 * Float(i + lane) / Float(n) }
            let y = expNonPositive(x)
            for lane in 0..<8 {
                let e = abs(y[lane] - Foundation.expf(x[lane])) / Foundation.expf(x[lane])
                if e > worst {
                    worst = e
                    at = x[lane]
                }
            }
        }
        XCTAssertLessThanOrEqual(worst, 3e-7, "worst relative error \(worst) at \(at)")
        let edges = expNonPositive(SIMD8<Float>(0, -0.0, -1e-30, -88, -1000, -.infinity, -87, -1))
        XCTAssertEqual(edges[0], 1)
        XCTAssertEqual(edges[1], 1)
        XCTAssertEqual(edges[2], 1)
        XCTAssertEqual(edges[3], 0)
        XCTAssertEqual(edges[4], 0)
        XCTAssertEqual(edges[5], 0)
        XCTAssertEqual(edges[6], Foundation.expf(-87), accuracy: 3e-7 * Foundation.expf(-87))
        XCTAssertEqual(edges[7], Foundation.expf(-1), accuracy: 3e-7 * Foundation.expf(-1))
        XCTAssertTrue(expNonPositive(SIMD8<Float>(repeating: .nan))[0].isNaN, "a NaN must stay NaN (the non-finite checks rely on it)")
    }

    func testGELUBackward() {
        var rng = TestRandom(5)
        // 43 elements: five 8-wide groups and a scalar tail.
        var x = rng.array(43, scale: 4)
        var r = rng.array(43)
        var dx = [Float](repeating: 0, count: 43)
        x.ptr { xp in r.ptr { rp in dx.ptr { dp in GELU.backward(x: xp, dy: rp, dx: dp, count: 43) } } }
        assertGradient("gelu dx", &x, analytic: dx, eps: 1e-3) { project(self.gelu($0), r) }
    }

    func layerNorm(_ x: [Float], _ g: [Float], _ b: [Float], rows: Int, width: Int, eps: Float) -> [Float] {
        var x = x, g = g, b = b, y = [Float](repeating: 0, count: x.count)
        x.ptr { xp in
            g.ptr { gp in
                b.ptr { bp in
                    y.ptr { yp in
                        LayerNorm.forward(x: xp, gamma: gp, beta: bp, y: yp, mean: nil, rstd: nil, rows: rows, width: width, eps: eps)
                    }
                }
            }
        }
        return y
    }

    func testLayerNormForwardAndBackward() {
        var rng = TestRandom(6)
        // 8: one eight-lane block; 21: two blocks and a tail of 5 (`Lanes`' row sums).
        for width in [8, 21] { checkLayerNorm(width: width, &rng) }
    }

    func checkLayerNorm(width: Int, _ rng: inout TestRandom) {
        let rows = 3, eps: Float = 1e-5
        var x = rng.array(rows * width, scale: 2), g = rng.array(width), b = rng.array(width)
        var r = rng.array(rows * width)
        let y = layerNorm(x, g, b, rows: rows, width: width, eps: eps)
        for row in 0..<rows {
            let v = (0..<width).map { Double(x[row * width + $0]) }
            let m = v.reduce(0, +) / Double(width)
            let variance = v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(width)
            for c in 0..<width {
                let ref = (v[c] - m) / (variance + Double(eps)).squareRoot() * Double(g[c]) + Double(b[c])
                XCTAssertEqual(Double(y[row * width + c]), ref, accuracy: 1e-5)
            }
        }
        var mean = [Float](repeating: 0, count: rows), rstd = mean
        var yy = y
        x.ptr { xp in
            g.ptr { gp in
                b.ptr { bp in
                    yy.ptr { yp in
                        mean.ptr { mp in
                            rstd.ptr { sp in
                                LayerNorm.forward(x: xp, gamma: gp, beta: bp, y: yp, mean: mp, rstd: sp, rows: rows, width: width, eps: eps)
                            }
                        }
                    }
                }
            }
        }
        var dx = [Float](repeating: 0, count: x.count), dg = [Float](repeating: 0, count: width), db = dg
        x.ptr { xp in
            r.ptr { rp in
                g.ptr { gp in
                    mean.ptr { mp in
                        rstd.ptr { sp in
                            dx.ptr { dxp in
                                dg.ptr { dgp in
                                    db.ptr { dbp in
                                        LayerNorm.backward(
                                            x: xp, dy: rp, gamma: gp, mean: mp, rstd: sp, dx: dxp, accumulateInput: false,
                                            dGamma: dgp, dBeta: dbp, rows: rows, width: width)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let (x0, g0, b0) = (x, g, b)
        assertGradient("ln dx", &x, analytic: dx) { project(self.layerNorm($0, g0, b0, rows: rows, width: width, eps: eps), r) }
        assertGradient("ln dgamma", &g, analytic: dg) { project(self.layerNorm(x0, $0, b0, rows: rows, width: width, eps: eps), r) }
        assertGradient("ln dbeta", &b, analytic: db) { project(self.layerNorm(x0, g0, $0, rows: rows, width: width, eps: eps), r) }
    }

    func testDropoutIsDeterministicUnbiasedAndSelfAdjoint() {
        let n = 20000, p: Float = 0.1
        var x = [Float](repeating: 1, count: n), y = x, y2 = x, y3 = x
        x.ptr { xp in y.ptr { yp in Dropout.forward(x: xp, y: yp, count: n, probability: p, key: 42) } }
        x.ptr { xp in y2.ptr { yp in Dropout.forward(x: xp, y: yp, count: n, probability: p, key: 42) } }
        x.ptr { xp in y3.ptr { yp in Dropout.forward(x: xp, y: yp, count: n, probability: p, key: 43) } }
        XCTAssertEqual(y, y2)
        XCTAssertNotEqual(y, y3)
        let dropped = y.filter { $0 == 0 }.count
        XCTAssertEqual(Double(dropped) / Double(n), Double(p), accuracy: 0.01)
        XCTAssertTrue(y.allSatisfy { $0 == 0 || abs($0 - 1 / (1 - p)) < 1e-6 })
        // An element's mask depends only on (key, index): a sub-range with firstIndex matches.
        var part = [Float](repeating: 1, count: 100)
        x.ptr { xp in part.ptr { pp in Dropout.forward(x: xp, y: pp, count: 100, probability: p, key: 42, firstIndex: 500) } }
        XCTAssertEqual(part, Array(y[500..<600]))
        var dx = [Float](repeating: 0, count: n)
        x.ptr { xp in dx.ptr { dp in Dropout.backward(dy: xp, dx: dp, count: n, probability: p, key: 42) } }
        XCTAssertEqual(dx, y)
        // Backward from the forward's output equals backward from the key wherever the input was non-zero,
        // and is 0 where it was 0.
        var xz = (0..<n).map { $0 % 7 == 3 ? Float(0) : Float($0 % 5) - 1.5 }, yz = xz, g = xz.reversed() as [Float]
        var fromKey = xz, fromOutput = xz
        xz.ptr { xp in yz.ptr { yp in Dropout.forward(x: xp, y: yp, count: n, probability: p, key: 42) } }
        g.ptr { gp in fromKey.ptr { dp in Dropout.backward(dy: gp, dx: dp, count: n, probability: p, key: 42) } }
        g.ptr { gp in
            yz.ptr { yp in
                fromOutput.ptr { dp in
                    Dropout.backward(dy: gp, dx: dp, count: n, probability: p, keptWhereNonZero: yp)
                }
            }
        }
        for i in 0..<n { XCTAssertEqual(fromOutput[i], xz[i] == 0 ? 0 : fromKey[i], "element \(i)") }
        // Neighbouring elements are independent: both dropped at rate p².
        let pairs = (0..<n - 1).filter { y[$0] == 0 && y[$0 + 1] == 0 }.count
        XCTAssertEqual(Double(pairs) / Double(n - 1), Double(p * p), accuracy: 0.005)
    }

    func testEmbeddingScatterIsAdjointOfGather() {
        var rng = TestRandom(7)
        let vocab = 6, width = 4, rows = 9
        var table = rng.array(vocab * width)
        let ids: [Int32] = [0, 3, 3, 5, 1, 0, 3, 2, 5]
        var g = rng.array(rows * width)
        var out = [Float](repeating: 0, count: rows * width), dTable = [Float](repeating: 0, count: vocab * width)
        table.ptr { tp in
            out.ptr { op in
                ids.withUnsafeBufferPointer { ip in
                    Embedding.gather(table: tp, ids: ip.baseAddress!, rows: rows, width: width, out: op, accumulate: false)
                }
            }
        }
        g.ptr { gp in
            dTable.ptr { dp in
                ids.withUnsafeBufferPointer { ip in
                    Embedding.scatterAdd(dOut: gp, ids: ip.baseAddress!, rows: rows, width: width, dTable: dp)
                }
            }
        }
        for r in 0..<rows { for c in 0..<width { XCTAssertEqual(out[r * width + c], table[Int(ids[r]) * width + c]) } }
        XCTAssertEqual(project(out, g), project(table, dTable), accuracy: 1e-5)
        XCTAssertTrue(dTable[4 * width..<5 * width].allSatisfy { $0 == 0 })
    }

    func crossEntropy(_ z: [Float], _ labels: [Int32], rows: Int, classes: Int, scale: Float?) -> ([Float], [Float], [Bool]) {
        var z = z, losses = [Float](repeating: 0, count: rows), correct = [Bool](repeating: false, count: rows)
        z.ptr { zp in
            labels.withUnsafeBufferPointer { lp in
                losses.ptr { lsp in
                    correct.withUnsafeMutableBufferPointer { cp in
                        CrossEntropy.forwardBackward(
                            logits: zp, labels: lp.baseAddress!, rows: rows, classes: classes,
                            losses: lsp, correct: cp.baseAddress!, gradientScale: scale)
                    }
                }
            }
        }
        return (z, losses, correct)
    }

    func testCrossEntropyMatchesReferenceAndGradient() {
        var rng = TestRandom(8)
        let rows = 4, classes = 7
        var z = rng.array(rows * classes, scale: 3)
        z[2 * classes + 5] = 50  // make row 2 confidently right
        let labels: [Int32] = [1, 6, 5, 0]
        let (grad, losses, correct) = crossEntropy(z, labels, rows: rows, classes: classes, scale: 0.5)
        for r in 0..<rows {
            let row = (0..<classes).map { Double(z[r * classes + $0]) }
            let m = row.max()!
            let ref = log(row.map { exp($0 - m) }.reduce(0, +)) + m - row[Int(labels[r])]
            XCTAssertEqual(Double(losses[r]), ref, accuracy: 1e-5)
            XCTAssertEqual(correct[r], row.firstIndex(of: m)! == Int(labels[r]))
        }
        XCTAssertTrue(correct[2])
        assertGradient("ce dlogits", &z, analytic: grad, eps: 1e-2) {
            0.5 * self.crossEntropy($0, labels, rows: rows, classes: classes, scale: nil).1.reduce(0.0) { $0 + Double($1) }
        }
    }
}
