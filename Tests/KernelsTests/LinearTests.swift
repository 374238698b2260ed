import Kernels
import XCTest

final class LinearTests: XCTestCase {
    let n = 5, inF = 7, outF = 4

    func forward(_ x: [Float], _ w: [Float], _ b: [Float]) -> [Float] {
        var x = x, w = w, b = b
        var y = [Float](repeating: 0, count: n * outF)
        x.ptr { xp in
            w.ptr { wp in
                b.ptr { bp in
                    y.ptr { yp in
                        Linear.forward(x: xp, weight: wp, bias: bp, y: yp, rows: n, inFeatures: inF, outFeatures: outF)
                    }
                }
            }
        }
        return y
    }

    func testForwardMatchesNaiveDouble() {
        var rng = TestRandom(1)
        let x = rng.array(n * inF), w = rng.array(outF * inF), b = rng.array(outF)
        let y = forward(x, w, b)
        for r in 0..<n {
            for o in 0..<outF {
                var s = Double(b[o])
                for i in 0..<inF { s += Double(x[r * inF + i]) * Double(w[o * inF + i]) }
                XCTAssertEqual(Double(y[r * outF + o]), s, accuracy: 1e-5)
            }
        }
    }

    func testBackwardMatchesFiniteDifferences() {
        var rng = TestRandom(2)
        var x = rng.array(n * inF), w = rng.array(outF * inF), b = rng.array(outF)
        var r = rng.array(n * outF)
        // dW and db accumulate: start from a non-zero value and subtract it afterwards.
        var dx = [Float](repeating: 5, count: n * inF), dw = [Float](repeating: 1, count: outF * inF)
        var db = [Float](repeating: 1, count: outF)
        r.ptr { rp in
            x.ptr { xp in
                w.ptr { wp in
                    dx.ptr { dxp in
                        dw.ptr { dwp in
                            db.ptr { dbp in
                                Linear.backward(
                                    dy: rp, x: xp, weight: wp, dx: dxp, accumulateInput: false, dWeight: dwp, dBias: dbp,
                                    rows: n, inFeatures: inF, outFeatures: outF)
                            }
                        }
                    }
                }
            }
        }
        dw = dw.map { $0 - 1 }
        db = db.map { $0 - 1 }
        let (x0, w0, b0) = (x, w, b)
        assertGradient("dx", &x, analytic: dx) { project(self.forward($0, w0, b0), r) }
        assertGradient("dW", &w, analytic: dw) { project(self.forward(x0, $0, b0), r) }
        assertGradient("db", &b, analytic: db) { project(self.forward(x0, w0, $0), r) }
        // accumulateInput adds to the existing contents.
        var dx2 = [Float](repeating: 5, count: n * inF)
        r.ptr { rp in
            x.ptr { xp in
                w.ptr { wp in
                    dx2.ptr { dxp in
                        dw.ptr { dwp in
                            Linear.backward(
                                dy: rp, x: xp, weight: wp, dx: dxp, accumulateInput: true, dWeight: dwp, dBias: nil,
                                rows: n, inFeatures: inF, outFeatures: outF)
                        }
                    }
                }
            }
        }
        for i in dx.indices { XCTAssertEqual(dx2[i], dx[i] + 5, accuracy: 1e-5) }
    }
}
