import Kernels
import XCTest

/// The element-wise and attention kernels split their work over threads; these tests run each one
/// above its parallel threshold with one and with two threads and require bit-identical results
/// (every element must be computed by the same arithmetic in the same order).
final class ParallelTests: XCTestCase {
    func run<R>(threads: Int, _ body: () -> R) -> R {
        let saved = BLAS.threads
        BLAS.threads = threads
        defer { BLAS.threads = saved }
        return body()
    }

    func assertSameBits(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let differing = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
        XCTAssertEqual(differing, 0, "\(what): \(differing) elements differ between 1 and 2 threads", file: file, line: line)
    }

    func bothThreadCounts(_ what: String, _ body: () -> [Float]) throws {
        try XCTSkipIf(
            Parallel.maximumWorkers < 2,
            "one processor online: the kernels never split work, so 1- vs 2-thread bit identity cannot be tested on this machine")
        assertSameBits(run(threads: 1, body), run(threads: 2, body), what)
    }

    func testRangesCoverEveryIndexOnce() {
        for count in [0, 1, 7, 1000, 100_003] {
            for minimum in [1, 10, 5000] {
                var hits = [Int32](repeating: 0, count: count)
                run(threads: 2) {
                    hits.withUnsafeMutableBufferPointer { h in
                        let p = h.baseAddress
                        Parallel.forRanges(count, minimumPerWorker: minimum) { range in
                            for i in range { p![i] += 1 }
                        }
                    }
                }
                XCTAssertTrue(hits.allSatisfy { $0 == 1 }, "count \(count), minimum \(minimum)")
            }
        }
        var seen = [Int32](repeating: 0, count: 37)
        run(threads: 2) {
            seen.withUnsafeMutableBufferPointer { s in
                let p = s.baseAddress!
                Parallel.forTasks(37) { task, worker in
                    XCTAssertLessThan(worker, Parallel.maximumWorkers)
                    p[task] += 1
                }
            }
        }
        XCTAssertTrue(seen.allSatisfy { $0 == 1 })
        XCTAssertEqual(
            run(threads: 2) { () -> Int in
                Parallel.forTasks(3) { _, _ in }
                return BLAS.threads
            }, 2,
            "forTasks restores the thread count")
    }

    func testElementwiseKernelsAreIdenticalAcrossThreadCounts() throws {
        var rng = TestRandom(41)
        let n = 300_001
        let x = rng.array(n, scale: 4), dy = rng.array(n)
        try bothThreadCounts("GELU forward") {
            var y = [Float](repeating: 0, count: n), xs = x
            xs.ptr { xp in y.ptr { yp in GELU.forward(x: xp, y: yp, count: n) } }
            return y
        }
        try bothThreadCounts("GELU backward") {
            var d = [Float](repeating: 0, count: n), xs = x, g = dy
            xs.ptr { xp in g.ptr { gp in d.ptr { dp in GELU.backward(x: xp, dy: gp, dx: dp, count: n) } } }
            return d
        }
        try bothThreadCounts("dropout") {
            var y = [Float](repeating: 0, count: n), xs = x
            xs.ptr { xp in y.ptr { yp in Dropout.forward(x: xp, y: yp, count: n, probability: 0.1, key: 99, firstIndex: 17) } }
            return y
        }
        try bothThreadCounts("vector add") {
            var y = dy, xs = x
            xs.ptr { xp in y.ptr { yp in Vector.add(xp, into: yp, count: n) } }
            return y
        }
    }

    func testRowKernelsAreIdenticalAcrossThreadCounts() throws {
        var rng = TestRandom(42)
        let rows = 2048, width = 192
        let x = rng.array(rows * width, scale: 3), dy = rng.array(rows * width)
        let gamma = rng.array(width), beta = rng.array(width)
        try bothThreadCounts("LayerNorm forward and backward") {
            var xs = x, g = gamma, b = beta, d = dy
            var y = [Float](repeating: 0, count: rows * width), mean = [Float](repeating: 0, count: rows), rstd = mean
            var dx = [Float](repeating: 0.5, count: rows * width), dGamma = [Float](repeating: 0.25, count: width), dBeta = dGamma
            xs.ptr { xp in
                g.ptr { gp in
                    b.ptr { bp in
                        y.ptr { yp in
                            mean.ptr { mp in
                                rstd.ptr { rp in
                                    d.ptr { dp in
                                        dx.ptr { dxp in
                                            dGamma.ptr { dgp in
                                                dBeta.ptr { dbp in
                                                    LayerNorm.forward(
                                                        x: xp, gamma: gp, beta: bp, y: yp, mean: mp, rstd: rp, rows: rows, width: width,
                                                        eps: 1e-12)
                                                    LayerNorm.backward(
                                                        x: xp, dy: dp, gamma: gp, mean: mp, rstd: rp, dx: dxp, accumulateInput: true,
                                                        dGamma: dgp, dBeta: dbp, rows: rows, width: width)
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
            return y + mean + rstd + dx + dGamma + dBeta
        }
        try bothThreadCounts("column sums and scatter-add with repeated ids") {
            var d = dy, sums = [Float](repeating: 1, count: width), table = [Float](repeating: 0, count: 10 * width)
            var ids = (0..<rows).map { Int32($0 * 7 % 10) }
            d.ptr { dp in
                sums.ptr { sp in
                    table.ptr { tp in
                        ids.withUnsafeMutableBufferPointer { ip in
                            Linear.columnSums(dp, rows: rows, columns: width, into: sp)
                            Embedding.scatterAdd(dOut: dp, ids: ip.baseAddress!, rows: rows, width: width, dTable: tp)
                        }
                    }
                }
            }
            return sums + table
        }
        let classes = 5000, ceRows = 40
        let logits = rng.array(ceRows * classes, scale: 5)
        try bothThreadCounts("cross-entropy") {
            var z = logits, labels = (0..<ceRows).map { Int32($0 * 113 % classes) }
            var losses = [Float](repeating: 0, count: ceRows), correct = [Bool](repeating: false, count: ceRows)
            z.ptr { zp in
                labels.withUnsafeMutableBufferPointer { lp in
                    losses.ptr { l in
                        correct.withUnsafeMutableBufferPointer { c in
                            CrossEntropy.forwardBackward(
                                logits: zp, labels: lp.baseAddress!, rows: ceRows, classes: classes,
                                losses: l, correct: c.baseAddress!, gradientScale: 0.01)
                        }
                    }
                }
            }
            return z + losses
        }
    }

    func testAttentionIsIdenticalAcrossThreadCounts() throws {
        var rng = TestRandom(43)
        let shape = Attention.Shape(batch: 3, seqLen: 16, hidden: 32, heads: 4)
        let n = shape.batch * shape.seqLen * shape.hidden
        let q = rng.array(n), k = rng.array(n), v = rng.array(n), dc = rng.array(n)
        var bias = [Float](repeating: 0, count: shape.batch * shape.seqLen)
        bias[shape.seqLen - 1] = Softmax.maskedBias
        try bothThreadCounts("attention forward and backward with dropout") {
            var qs = q, ks = k, vs = v, dcs = dc, b = bias, keys: [UInt64] = [5, 6, 7]
            var probs = [Float](repeating: 0, count: shape.probabilityCount), dropped = probs, ctx = q
            var dq = q, dk = q, dv = q
            var scratch = [Float](repeating: 0, count: shape.seqLen * shape.seqLen * Parallel.maximumWorkers)
            qs.ptr { qp in
                ks.ptr { kp in
                    vs.ptr { vp in
                        b.ptr { bp in
                            probs.ptr { pp in
                                dropped.ptr { dp in
                                    ctx.ptr { cp in
                                        dcs.ptr { dcp in
                                            dq.ptr { dqp in
                                                dk.ptr { dkp in
                                                    dv.ptr { dvp in
                                                        scratch.ptr { sp in
                                                            keys.withUnsafeBufferPointer { kb in
                                                                let drop = Attention.DropoutKeys(probability: 0.1, keys: kb.baseAddress!)
                                                                Attention.forward(
                                                                    q: qp, k: kp, v: vp, keyBias: bp, shape: shape, probs: pp,
                                                                    droppedProbs: dp,
                                                                    dropout: drop, context: cp)
                                                                Attention.backward(
                                                                    dContext: dcp, q: qp, k: kp, v: vp, probs: pp, droppedProbs: dp,
                                                                    dropout: drop,
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
            return ctx + dq + dk + dv
        }
    }
}
