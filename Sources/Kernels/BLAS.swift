import COpenBLAS

/// Thin, readable wrapper around OpenBLAS `cblas_sgemm` for row-major Float32 matrices.
public enum BLAS {
    /// `C[m,n] = alpha · op(A)[m,k] · op(B)[k,n] + beta · C`, all row-major.
    ///
    /// `lda`, `ldb`, `ldc` are the row strides (in floats) of the matrices *as stored*, so a
    /// column block of a wider matrix (one attention head inside `[B*T, H]`) is addressed by a
    /// pointer offset plus the full width as leading dimension, with no copy.
    @inlinable
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
