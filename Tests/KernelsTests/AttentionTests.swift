import XCTest
import Foundation
import Kernels

final class AttentionTests: XCTestCase {
    let shape = Attention.Shape(batch: 2, seqLen: 5, hidden: 6, heads: 2)
    // Sample 1 has its last two key positions padded.
    var keyBias: [Float] { [0, 0, 0, 0, 0, 0, 0, 0, Softmax.maskedBias, Softmax.maskedBias] }
    var keys: [UInt64] = [11, 12]

    func forward(_ q: [Float], _ k: [Float], _ v: [Float], dropout: Float?) -> [Float] {
        var q = q, k = k, v = v, bias = keyBias, keys = keys
        var probs = [Float](repeating: 0, count: shape.probabilityCount), dropped = probs
        var ctx = [Float](repeating: 0, count: shape.batch * shape.seqLen * shape.hidden)
        q.ptr { qp in k.ptr { kp in v.ptr { vp in bias.ptr { bp in probs.ptr { pp in dropped.ptr { dp in ctx.ptr { cp in
            keys.withUnsafeBufferPointer { kb in
                let d = dropout.map { Attention.DropoutKeys(probability: $0, keys: kb.baseAddress!) }
                Attention.forward(q: qp, k: kp, v: vp, keyBias: bp, shape: shape, probs: pp, droppedProbs: dp,
                                  dropout: d, context: cp)
            } } } } } } } }
        return ctx
    }

    func testForwardMatchesNaiveDouble() {
        var rng = TestRandom(9)
        let n = shape.batch * shape.seqLen * shape.hidden
        let q = rng.array(n), k = rng.array(n), v = rng.array(n)
        let ctx = forward(q, k, v, dropout: nil)
        let T = shape.seqLen, H = shape.hidden, d = shape.headSize
        for b in 0..<shape.batch { for h in 0..<shape.heads { for i in 0..<T {
            var scores = [Double](repeating: 0, count: T)
            for j in 0..<T {
                if keyBias[b * T + j] != 0 { scores[j] = -.infinity; continue }
                for e in 0..<d { scores[j] += Double(q[(b * T + i) * H + h * d + e]) * Double(k[(b * T + j) * H + h * d + e]) }
                scores[j] /= Double(d).squareRoot()
            }
            let m = scores.max()!, w = scores.map { exp($0 - m) }, s = w.reduce(0, +)
            for e in 0..<d {
                var c = 0.0
                for j in 0..<T { c += w[j] / s * Double(v[(b * T + j) * H + h * d + e]) }
                XCTAssertEqual(Double(ctx[(b * T + i) * H + h * d + e]), c, accuracy: 1e-5)
            }
        } } }
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
        q.ptr { qp in k.ptr { kp in v.ptr { vp in bias.ptr { bp in probs.ptr { pp in dropped.ptr { dp in ctx.ptr { cp in
            keys.withUnsafeBufferPointer { kb in
                let d = dropout.map { Attention.DropoutKeys(probability: $0, keys: kb.baseAddress!) }
                Attention.forward(q: qp, k: kp, v: vp, keyBias: bp, shape: shape, probs: pp, droppedProbs: dp,
                                  dropout: d, context: cp)
                r.ptr { rp in dq.ptr { dqp in dk.ptr { dkp in dv.ptr { dvp in scratch.ptr { sp in
                    Attention.backward(dContext: rp, q: qp, k: kp, v: vp, probs: pp, droppedProbs: dp, dropout: d,
                                       shape: shape, dq: dqp, dk: dkp, dv: dvp, scratch: sp) } } } } }
            } } } } } } } }
        let (q0, k0, v0) = (q, k, v)
        assertGradient("attn dq", &q, analytic: dq) { project(self.forward($0, k0, v0, dropout: dropout), r) }
        assertGradient("attn dk", &k, analytic: dk) { project(self.forward(q0, $0, v0, dropout: dropout), r) }
        assertGradient("attn dv", &v, analytic: dv) { project(self.forward(q0, k0, $0, dropout: dropout), r) }
        // Padded keys of sample 1 receive no gradient.
        for j in 8..<10 { for c in 0..<shape.hidden { XCTAssertEqual(dk[j * shape.hidden + c], 0); XCTAssertEqual(dv[j * shape.hidden + c], 0) } }
    }

    func testBackwardWithoutDropout() { checkBackward(dropout: nil) }
    func testBackwardWithDropout() { checkBackward(dropout: 0.3) }
}
