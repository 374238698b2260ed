import Core

/// Row-wise LayerNorm `y = (x - mean) · rstd · gamma + beta` over the last dimension.
/// Row sums run in `Lanes`' fixed eight-lane order (a scalar chain of adds was 2.4% of a BERT-mini step).
public enum LayerNorm {
    /// Normalises `rows` rows of `width` values. Saves per-row `mean[rows]` and
    /// `rstd[rows] = 1/sqrt(var + eps)` (biased variance, as PyTorch) for the backward pass.
    /// `y` must not alias `x` (the backward pass recomputes x̂ from `x`).
    @inlinable
    public static func forward(x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                               y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>?,
                               rstd: UnsafeMutablePointer<Float>?, rows: Int, width: Int, eps: Float) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.layerNorm, t0, bytes: 8 * Double(rows * width)) }
        let inverseWidth = 1 / Float(width)
        Parallel.forRanges(rows, minimumPerWorker: max(1, (1 << 15) / max(width, 1))) { range in
            for r in range {
                normaliseRow(x + r * width, gamma: gamma, beta: beta, y: y + r * width, mean: mean.map { $0 + r },
                             rstd: rstd.map { $0 + r }, width: width, inverseWidth: inverseWidth, eps: eps)
            }
        }
    }

    /// A hidden-state dropout over the rows of `[rows, width]` activations of samples of `seqLen`
    /// positions: row r is flat position `positions?[r] ?? r` (= b·T + t), and its mask is `Dropout`'s
    /// with sample b's key `keys[b]` over element indices `t·width ..< (t+1)·width` — the mask the whole
    /// sample's slab gets from `Dropout.forward(…key: keys[b]…)`.
    public struct RowDropout {
        public var probability: Float
        public var keys: UnsafePointer<UInt64>
        public var seqLen: Int
        public var positions: UnsafePointer<Int32>?
        public init(probability: Float, keys: UnsafePointer<UInt64>, seqLen: Int, positions: UnsafePointer<Int32>?) {
            self.probability = probability; self.keys = keys; self.seqLen = seqLen; self.positions = positions
        }
    }

    /// `x = dropout(x) + residual` in place, then `forward` of the sum into `y`: one pass over each row
    /// where `Dropout.forward`, `Vector.add` and `forward` make three. Every float is computed by the
    /// same operations in the same order as that sequence, so the results are bit-identical to it.
    /// `x` keeps the sum (the backward's input); `residual` and `y` must not alias `x`.
    @inlinable
    public static func forwardAddingResidual(_ x: UnsafeMutablePointer<Float>, dropout: RowDropout?,
                                             residual: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
                                             beta: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                                             mean: UnsafeMutablePointer<Float>?, rstd: UnsafeMutablePointer<Float>?,
                                             rows: Int, width: Int, eps: Float) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.layerNorm, t0, bytes: 16 * Double(rows * width)) }
        let inverseWidth = 1 / Float(width)
        let p = dropout?.probability ?? 0, scale = 1 / (1 - p)
        Parallel.forRanges(rows, minimumPerWorker: max(1, (1 << 15) / max(width, 1))) { range in
            for r in range {
                let xr = x + r * width, rr = residual + r * width
                if let dropout, p > 0 {
                    let position = dropout.positions.map { Int($0[r]) } ?? r
                    let b = position / dropout.seqLen, key = dropout.keys[b]
                    let first = (position - b * dropout.seqLen) * width
                    for c in 0..<width {
                        let u = CounterHash.uniform(key: key, index: UInt64(first + c))
                        xr[c] = (u >= p ? xr[c] * scale : 0) + rr[c]
                    }
                } else {
                    for c in 0..<width { xr[c] += rr[c] }
                }
                normaliseRow(xr, gamma: gamma, beta: beta, y: y + r * width, mean: mean.map { $0 + r },
                             rstd: rstd.map { $0 + r }, width: width, inverseWidth: inverseWidth, eps: eps)
            }
        }
    }

    /// One row of `forward`.
    @inlinable @inline(__always) @usableFromInline
    static func normaliseRow(_ xr: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                             y yr: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>?,
                             rstd: UnsafeMutablePointer<Float>?, width: Int, inverseWidth: Float, eps: Float) {
        let m = Lanes.sum(xr, count: width) * inverseWidth
        let mv = SIMD8<Float>(repeating: m)
        let squares = Lanes.sum(count: width, { let d = Lanes.load(xr, $0) - mv; return d * d },
                                { let d = xr[$0] - m; return d * d })
        let s = 1 / (squares * inverseWidth + eps).squareRoot()
        for c in 0..<width { yr[c] = (xr[c] - m) * s * gamma[c] + beta[c] }
        mean?.pointee = m
        rstd?.pointee = s
    }

    /// Backward of `forward`.
    ///
    /// `dx = rstd · (g - mean(g) - x̂ · mean(g · x̂))` with `g = dy · gamma`; written (=) into `dx`, or
    /// added (+=) when `accumulateInput`. `dGamma += Σ dy · x̂`, `dBeta += Σ dy`. `dx` must not alias `dy`
    /// unless `accumulateInput` is false (then aliasing is allowed: each row is read before written).
    @inlinable
    public static func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
                                mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                dx: UnsafeMutablePointer<Float>, accumulateInput: Bool,
                                dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>,
                                rows: Int, width: Int) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.layerNorm, t0, bytes: (accumulateInput ? 16 : 12) * Double(rows * width)) }
        let inverseWidth = 1 / Float(width)
        // Parameter gradients first, with threads splitting the columns: each column still sums its
        // rows in order, so the result does not depend on the thread count (and `dx` may alias `dy`).
        Parallel.forRanges(width, minimumPerWorker: rows >= 1024 ? 64 : width) { columns in
            for r in 0..<rows {
                let xr = x + r * width, dyr = dy + r * width
                let m = mean[r], s = rstd[r]
                for c in columns {
                    let xhat = (xr[c] - m) * s
                    dGamma[c] += dyr[c] * xhat
                    dBeta[c] += dyr[c]
                }
            }
        }
        Parallel.forRanges(rows, minimumPerWorker: max(1, (1 << 15) / max(width, 1))) { range in
            for r in range {
                let xr = x + r * width, dyr = dy + r * width, dxr = dx + r * width
                let m = mean[r], s = rstd[r]
                let mv = SIMD8<Float>(repeating: m), sv = SIMD8<Float>(repeating: s)
                let sumG = Lanes.dot(dyr, gamma, count: width)
                let sumGX = Lanes.sum(count: width, { Lanes.load(dyr, $0) * Lanes.load(gamma, $0) * ((Lanes.load(xr, $0) - mv) * sv) },
                                      { dyr[$0] * gamma[$0] * ((xr[$0] - m) * s) })
                let meanG = sumG * inverseWidth, meanGX = sumGX * inverseWidth
                if accumulateInput {
                    for c in 0..<width {
                        let xhat = (xr[c] - m) * s
                        dxr[c] += s * (dyr[c] * gamma[c] - meanG - xhat * meanGX)
                    }
                } else {
                    for c in 0..<width {
                        let xhat = (xr[c] - m) * s
                        dxr[c] = s * (dyr[c] * gamma[c] - meanG - xhat * meanGX)
                    }
                }
            }
        }
    }
}
