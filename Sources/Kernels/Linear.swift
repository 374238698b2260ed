/// Fully connected layer in PyTorch's `nn.Linear` layout: weight `W[out, in]`, bias `b[out]`.
public enum Linear {
    /// `y[n, out] = x[n, in] · W[out, in]^T + b`.
    ///
    /// The bias is fused by first broadcasting it into `y` and then running sgemm with beta = 1.
    /// `y` must not alias `x`.
    @inlinable
    public static func forward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, rows n: Int, inFeatures: Int, outFeatures: Int
    ) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.linear, t0, flops: 2 * Double(n) * Double(inFeatures * outFeatures)) }
        if let bias {
            for r in 0..<n { (y + r * outFeatures).update(from: bias, count: outFeatures) }
        }
        BLAS.gemm(
            transposeB: true, m: n, n: outFeatures, k: inFeatures,
            a: x, lda: inFeatures, b: weight, ldb: inFeatures,
            beta: bias == nil ? 0 : 1, c: y, ldc: outFeatures)
    }

    /// Backward of `forward`.
    ///
    /// - `dWeight[out, in] += dy^T · x` and `dBias[out] += Σ_rows dy` (always accumulate: gradients of
    ///   a step sum over calls).
    /// - `dx[n, in] = dy · W` when `accumulateInput` is false, `dx += dy · W` when it is true; skipped
    ///   when `dx` is nil.
    @inlinable
    public static func backward(
        dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, accumulateInput: Bool,
        dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?,
        rows n: Int, inFeatures: Int, outFeatures: Int
    ) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.linear, t0, flops: (dx == nil ? 2 : 4) * Double(n) * Double(inFeatures * outFeatures)) }
        BLAS.gemm(
            transposeA: true, m: outFeatures, n: inFeatures, k: n,
            a: dy, lda: outFeatures, b: x, ldb: inFeatures, beta: 1, c: dWeight, ldc: inFeatures)
        if let dBias { columnSums(dy, rows: n, columns: outFeatures, into: dBias) }
        if let dx {
            BLAS.gemm(
                m: n, n: inFeatures, k: outFeatures, a: dy, lda: outFeatures, b: weight, ldb: inFeatures,
                beta: accumulateInput ? 1 : 0, c: dx, ldc: inFeatures)
        }
    }

    /// `sums[c] += Σ_r m[r, c]` over a row-major `[rows, columns]` matrix (row-wise so it vectorises).
    /// Threads split the columns, so every sum adds its rows in the same order as a serial loop.
    @inlinable
    public static func columnSums(
        _ m: UnsafePointer<Float>, rows: Int, columns: Int,
        into sums: UnsafeMutablePointer<Float>
    ) {
        Parallel.forRanges(columns, minimumPerWorker: rows >= 1024 ? 64 : columns) { cols in
            for r in 0..<rows {
                let row = m + r * columns
                for c in cols { sums[c] += row[c] }
            }
        }
    }
}
