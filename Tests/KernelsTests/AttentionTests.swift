import Foundation
import Kernels
import SiftTestSupport
import XCTest

final class AttentionTests: XCTestCase {
    let shape = Attention.Shape(batch: 2, seqLen: 5, hidden: 6, heads: 2)
    // Sample 1 has its last two key positions padded.
    var keyBias: [Float] { [0, 0, 0, 0, 0, 0, 0, 0, Softmax.maskedBias, Softmax.maskedBias] }
    var keys: [UInt64] = [11, 12]

    func forward(_ q: [Float], _ k: [Float], _ v: [Float], dropout: Float?) -> [Float] {
        var q = q, k = k, v = v, bias = keyBias, keys = keys
        var probs = [Float](repeating: 0, count: shape.probabilityCount), dropped = probs
        var ctx = [Float](repeating: 0, count: shape.batch * shape.seqLen * shape.hidden)
        q.ptr { qp in
            k.ptr { kp in
                v.ptr { vp in
                    bias.ptr { bp in
                        probs.ptr { pp in
                            dropped.ptr { dp in
                                ctx.ptr { cp in
                                    keys.withUnsafeBufferPointer { kb in
                                        let d = dropout.map { Attention.DropoutKeys(probability: $0, keys: kb.baseAddress!) }
                                        Attention.forward(
                                            q: qp, k: kp, v: vp, keyBias: bp, shape: shape, probs: pp, droppedProbs: dp,
                                            dropout: d, context: cp)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return ctx
    }

    func testForwardMatchesNaiveDouble() {
        var rng = TestRandom(9)
        let n = shape.batch * shape.seqLen * shape.hidden
        let q = rng.array(n), k = rng.array(n), v = rng.array(n)
        let ctx = forward(q, k, v, dropout: nil)
        let T = shape.seqLen, H = shape.hidden, d = shape.headSize
        for b in 0..<shape.batch {
            for h in 0..<shape.heads {
                for i in 0..<T {
                    var scores = [Double](repeating: 0, count: T)
                    for j in 0..<T {
                        if keyBias[b * T + j] != 0 {
                            scores[j] = -.infinity
                            continue
                        }
                        for e in 0..<d { scores[j] += Double(q[(b * T + i) * H + h * d + e]) * Double(k[(b * T + j) * H + h * d + e]) }
                        scores[j] /= Double(d).squareRoot()
                    }
                    let m = scores.max()!, w = scores.map { exp($0 - m) }, s = w.reduce(0, +)
                    for e in 0..<d {
                        var c = 0.0
                        for j in 0..<T { c += w[j] / s * Double(v[(b * T + j) * H + h * d + e]) }
                        XCTAssertEqual(Double(ctx[(b * T + i) * H + h * d + e]), c, accuracy: 1e-5)
                    }
                }
            }
        }
    }

    func checkBackward(dropout: Float?) {
        var rng = TestRandom(10)
        let n = shape.batch * shape.seqLen * shape.hidden
        var q = rng.array(n), k = rng.array(n), v = rng.array(n)
        var r = rng.array(n)
        var bias = keyBias, keys = keys
        var probs = [Float](repeating: 0, count: shape.probabilityCount), dropped = probs
        var ctx = [Float](repeating: 0, count: n)
        var dq = [Float](repeating: 0, count: n), dk = dq, dv = dq
        var scratch = [Float](repeating: 0, count: shape.seqLen * shape.seqLen * Parallel.maximumWorkers)
        q.ptr { qp in
            k.ptr { kp in
                v.ptr { vp in
                    bias.ptr { bp in
                        probs.ptr { pp in
                            dropped.ptr { dp in
                                ctx.ptr { cp in
                                    keys.withUnsafeBufferPointer { kb in
                                        let d = dropout.map { Attention.DropoutKeys(probability: $0, keys: kb.baseAddress!) }
                                        Attention.forward(
                                            q: qp, k: kp, v: vp, keyBias: bp, shape: shape, probs: pp, droppedProbs: dp,
                                            dropout: d, context: cp)
                                        r.ptr { rp in
                                            dq.ptr { dqp in
                                                dk.ptr { dkp in
                                                    dv.ptr { dvp in
                                                        scratch.ptr { sp in
                                                            Attention.backward(
                                                                dContext: rp, q: qp, k: kp, v: vp, probs: pp, droppedProbs: dp, dropout: d,
                                                                shape: shape, dq: dqp, dk: dkp, dv: dvp, scratch: sp)
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let (q0, k0, v0) = (q, k, v)
        assertGradient("attn dq", &q, analytic: dq) { project(self.forward($0, k0, v0, dropout: dropout), r) }
        assertGradient("attn dk", &k, analytic: dk) { project(self.forward(q0, $0, v0, dropout: dropout), r) }
        assertGradient("attn dv", &v, analytic: dv) { project(self.forward(q0, k0, $0, dropout: dropout), r) }
        // Padded keys of sample 1 receive no gradient.
        for j in 8..<10 {
            for c in 0..<shape.hidden {
                XCTAssertEqual(dk[j * shape.hidden + c], 0)
                XCTAssertEqual(dv[j * shape.hidden + c], 0)
            }
        }
    }

    func testBackwardWithoutDropout() { checkBackward(dropout: nil) }
    func testBackwardWithDropout() { checkBackward(dropout: 0.3) }

    /// The query-row attention against the dense one: context rows at the selected positions, and with
    /// a context gradient that is zero elsewhere the same dq rows and the same dk, dv everywhere
    /// (a sample without selected rows gets zeros). Each row is the same products, but OpenBLAS may block
    /// an m-row product differently from a T-row one (bit for bit with Zen's and Haswell's kernels, the
    /// last bit apart with Nehalem's), so the rows are compared within the rounding bound of the chain of
    /// sums behind them: scores over H, softmax over T, the product with V or K over T.
    func checkQueryRows(_ rows: [Int32], dropout: Float?) {
        var rng = TestRandom(12)
        let n = shape.batch * shape.seqLen * shape.hidden, H = shape.hidden, T = shape.seqLen, m = rows.count
        let q = rng.array(n), k = rng.array(n), v = rng.array(n)
        var r = rng.array(n)
        for i in 0..<n where !rows.contains(Int32(i / H)) { r[i] = 0 }
        let rowStart: [Int32] = (0...shape.batch).map { b in Int32(rows.filter { Int($0) < b * T }.count) }
        // Unmanaged copies keep the calls readable; all freed at the end.
        var owned: [UnsafeMutableRawPointer] = []
        defer { owned.forEach { $0.deallocate() } }
        func copy<E>(_ a: [E]) -> UnsafeMutablePointer<E> {
            let p = UnsafeMutablePointer<E>.allocate(capacity: max(a.count, 1))
            p.initialize(from: a, count: a.count)
            owned.append(UnsafeMutableRawPointer(p))
            return p
        }
        func zeros(_ count: Int, _ value: Float = 0) -> UnsafeMutablePointer<Float> {
            copy([Float](repeating: value, count: max(count, 1)))
        }
        let gathered = { (x: [Float]) in rows.flatMap { x[Int($0) * H..<(Int($0) + 1) * H] } }
        let (qp, kp, vp, rp) = (copy(q), copy(k), copy(v), copy(r)), bias = copy(keyBias), keyList = copy(keys)
        let qg = copy(gathered(q)), rg = copy(gathered(r))
        let d = dropout.map { Attention.DropoutKeys(probability: $0, keys: keyList) }
        let queries = Attention.QueryRows(rows: copy(rows), rowStart: copy(rowStart))
        let probs = zeros(shape.probabilityCount), dropped = zeros(shape.probabilityCount), ctx = zeros(n)
        let dq = zeros(n), dk = zeros(n), dv = zeros(n), scratch = zeros(T * T * Parallel.maximumWorkers)
        let sparseProbs = zeros(shape.probabilityCount), sparseDropped = zeros(shape.probabilityCount)
        let sparseCtx = zeros(m * H), sparseDq = zeros(m * H), sparseDk = zeros(n, .nan), sparseDv = zeros(n, .nan)
        Attention.forward(
            q: qp, k: kp, v: vp, keyBias: bias, shape: shape, probs: probs, droppedProbs: dropped, dropout: d,
            context: ctx)
        Attention.backward(
            dContext: rp, q: qp, k: kp, v: vp, probs: probs, droppedProbs: dropped, dropout: d,
            shape: shape, dq: dq, dk: dk, dv: dv, scratch: scratch)
        Attention.forward(
            q: qg, k: kp, v: vp, keyBias: bias, shape: shape, queries: queries, probs: sparseProbs,
            droppedProbs: sparseDropped, dropout: d, context: sparseCtx)
        Attention.backward(
            dContext: rg, q: qg, k: kp, v: vp, probs: sparseProbs, droppedProbs: sparseDropped, dropout: d,
            shape: shape, queries: queries, dq: sparseDq, dk: sparseDk, dv: sparseDv, scratch: scratch)
        let array = { (p: UnsafeMutablePointer<Float>, from: Int, count: Int) in Array(UnsafeBufferPointer(start: p + from, count: count)) }
        let bound = RoundingBound.twoOrders(terms: H + 2 * T)
        func assertClose(_ a: [Float], _ b: [Float], scale: [Float], _ what: String) {
            let largest = scale.map(abs).max() ?? 0
            XCTAssertEqual(a.count, b.count, what)
            for (x, y) in zip(a, b) where !(abs(x - y) <= bound * largest) {
                XCTFail("\(what): \(x) against \(y), beyond \(bound) of the largest |value| \(largest)")
                return
            }
        }
        for (i, row) in rows.enumerated() {
            assertClose(array(sparseCtx, i * H, H), array(ctx, Int(row) * H, H), scale: array(ctx, 0, n), "context row \(row)")
            assertClose(array(sparseDq, i * H, H), array(dq, Int(row) * H, H), scale: array(dq, 0, n), "dq row \(row)")
        }
        assertClose(array(sparseDk, 0, n), array(dk, 0, n), scale: array(dk, 0, n), "dk")
        assertClose(array(sparseDv, 0, n), array(dv, 0, n), scale: array(dv, 0, n), "dv")
        XCTAssertTrue(array(dk, 0, n).contains { $0 != 0 } && array(dv, 0, n).contains { $0 != 0 })
    }

    func testQueryRowsEqualTheDenseRows() {
        for dropout: Float? in [nil, 0.3] {
            checkQueryRows([1, 3, 6, 9], dropout: dropout)  // two rows in each sample (sample 1 padded at 8, 9)
            checkQueryRows([0, 2, 4], dropout: dropout)  // none in sample 1
        }
    }
}
