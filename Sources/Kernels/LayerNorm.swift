/// Row-wise LayerNorm `y = (x - mean) · rstd · gamma + beta` over the last dimension.
/// Row sums run in `Lanes`' fixed eight-lane order (a scalar chain of adds was 2.4% of a BERT-mini step).
public enum LayerNorm {
    /// Normalises `rows` rows of `width` values. Saves per-row `mean[rows]` and
    /// `rstd[rows] = 1/sqrt(var + eps)` (biased variance, as PyTorch) for the backward pass.
    /// `y` must not alias `x` (the backward pass recomputes x̂ from `x`).
    @inlinable
    public static func forward(
        x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>?,
        rstd: UnsafeMutablePointer<Float>?, rows: Int, width: Int, eps: Float
    ) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.layerNorm, t0, bytes: 8 * Double(rows * width)) }
        let inverseWidth = 1 / Float(width)
        Parallel.forRanges(rows, minimumPerWorker: max(1, (1 << 15) / max(width, 1))) { range in
            for r in range {
                let xr = x + r * width, yr = y + r * width
                let m = Lanes.sum(xr, count: width) * inverseWidth
                let mv = SIMD8<Float>(repeating: m)
                let squares = Lanes.sum(
                    count: width,
                    {
                        let d = Lanes.load(xr, $0) - mv
                        return d * d
                    },
                    {
                        let d = xr[$0] - m
                        return d * d
                    })
                let s = 1 / (squares * inverseWidth + eps).squareRoot()
                for c in 0..<width { yr[c] = (xr[c] - m) * s * gamma[c] + beta[c] }
                mean?[r] = m
                rstd?[r] = s
            }
        }
    }

    /// Backward of `forward`.
    ///
    /// `dx = rstd · (g - mean(g) - x̂ · mean(g · x̂))` with `g = dy · gamma`; written (=) into `dx`, or
    /// added (+=) when `accumulateInput`. `dGamma += Σ dy · x̂`, `dBeta += Σ dy`. `dx` must not alias `dy`
    /// unless `accumulateInput` is false (then aliasing is allowed: each row is read before written).
    @inlinable
    public static func backward(
        x: UnsafePointer<Float>, dy: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, accumulateInput: Bool,
        dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>,
        rows: Int, width: Int
    ) {
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
                let sumGX = Lanes.sum(
                    count: width, { Lanes.load(dyr, $0) * Lanes.load(gamma, $0) * ((Lanes.load(xr, $0) - mv) * sv) },
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
