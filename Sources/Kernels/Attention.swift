/// Multi-head scaled dot-product self-attention core over `[B*T, H]` activations.
///
/// Q, K, V and the context are row-major `[B*T, H]` with head `h` occupying columns
/// `h*d ..< (h+1)*d` (d = H / A). Each (sample, head) block is addressed as a strided sgemm view
/// (pointer offset `b*T*H + h*d`, leading dimension H) — never copied.
public enum Attention {
    /// Sizes of one attention call.
    public struct Shape: Sendable {
        public var batch: Int, seqLen: Int, hidden: Int, heads: Int
        public init(batch: Int, seqLen: Int, hidden: Int, heads: Int) {
            self.batch = batch
            self.seqLen = seqLen
            self.hidden = hidden
            self.heads = heads
        }
        public var headSize: Int { hidden / heads }
        /// Floats in one `[B, A, T, T]` probability tensor.
        public var probabilityCount: Int { batch * heads * seqLen * seqLen }
    }

    /// Dropout on attention probabilities: one key per sample (index `b`), element index
    /// `h*T*T + i*T + j` within the sample.
    public struct DropoutKeys {
        public var probability: Float
        public var keys: UnsafePointer<UInt64>
        public init(probability: Float, keys: UnsafePointer<UInt64>) {
            self.probability = probability
            self.keys = keys
        }
    }

    /// Forward: `probs[b,h] = softmax(Q_h K_h^T / √d + keyBias[b])`, then (optionally) dropout into
    /// `droppedProbs`, and `context_h = P' · V_h`.
    ///
    /// - keyBias: `[B*T]` additive mask per key position (0 or `Softmax.maskedBias`).
    /// - probs: `[B, A, T, T]` output, saved for backward.
    /// - droppedProbs: `[B, A, T, T]` output when `dropout` is non-nil (ignored otherwise).
    /// - context: `[B*T, H]` output.
    public static func forward(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        keyBias: UnsafePointer<Float>, shape s: Shape,
        probs: UnsafeMutablePointer<Float>, droppedProbs: UnsafeMutablePointer<Float>?,
        dropout: DropoutKeys?, context: UnsafeMutablePointer<Float>
    ) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.attention, t0, flops: 4 * Double(s.batch * s.seqLen) * Double(s.seqLen * s.hidden)) }
        let T = s.seqLen, H = s.hidden, d = s.headSize, TT = T * T
        let scale = 1 / Float(d).squareRoot()
        Parallel.forTasks(s.batch * s.heads) { task, _ in
            let b = task / s.heads, h = task % s.heads
            let rowBase = b * T * H
            do {
                let qh = q + rowBase + h * d, kh = k + rowBase + h * d, vh = v + rowBase + h * d
                let p = probs + (b * s.heads + h) * TT
                BLAS.gemm(
                    transposeB: true, m: T, n: T, k: d, alpha: scale, a: qh, lda: H, b: kh, ldb: H,
                    c: p, ldc: T)
                Softmax.forward(x: p, y: p, rows: T, columns: T, columnBias: keyBias + b * T)
                var used = UnsafePointer(p)
                if let dropout, let droppedProbs {
                    let pd = droppedProbs + (b * s.heads + h) * TT
                    Dropout.forward(
                        x: p, y: pd, count: TT, probability: dropout.probability,
                        key: dropout.keys[b], firstIndex: h * TT)
                    used = UnsafePointer(pd)
                }
                BLAS.gemm(m: T, n: d, k: T, a: used, lda: T, b: vh, ldb: H, c: context + rowBase + h * d, ldc: H)
            }
        }
    }

    /// Backward of `forward`. Writes (=) `dq`, `dk`, `dv` (`[B*T, H]`). `scratch` holds
    /// `T*T*Parallel.maximumWorkers` floats (one `[T, T]` block per worker).
    /// `probs`/`droppedProbs`/`dropout` must be what `forward` used. The dropout mask is read off
    /// `droppedProbs` (non-zero where kept) rather than re-hashed: equal wherever it matters, since a
    /// probability of 0 gets no gradient through the softmax, and 8.4M fewer hashes per BERT-mini step.
    public static func backward(
        dContext: UnsafePointer<Float>,
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        probs: UnsafePointer<Float>, droppedProbs: UnsafePointer<Float>?,
        dropout: DropoutKeys?, shape s: Shape,
        dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
        dv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.attention, t0, flops: 8 * Double(s.batch * s.seqLen) * Double(s.seqLen * s.hidden)) }
        let T = s.seqLen, H = s.hidden, d = s.headSize, TT = T * T
        let scale = 1 / Float(d).squareRoot()
        Parallel.forTasks(s.batch * s.heads) { task, worker in
            let b = task / s.heads, h = task % s.heads
            let rowBase = b * T * H
            let scratch = scratch + worker * TT
            do {
                let o = rowBase + h * d
                let p = probs + (b * s.heads + h) * TT
                // The forward applied dropout only when it had both the keys and `droppedProbs`.
                let dropped = dropout != nil ? droppedProbs.map { $0 + (b * s.heads + h) * TT } : nil
                let used = dropped ?? p
                let dch = dContext + o
                // dV_h = P'^T · dC_h
                BLAS.gemm(transposeA: true, m: T, n: d, k: T, a: used, lda: T, b: dch, ldb: H, c: dv + o, ldc: H)
                // dP' = dC_h · V_h^T
                BLAS.gemm(transposeB: true, m: T, n: T, k: d, a: dch, lda: H, b: v + o, ldb: H, c: scratch, ldc: T)
                if let dropout, let dropped {
                    Dropout.backward(
                        dy: scratch, dx: scratch, count: TT, probability: dropout.probability,
                        keptWhereNonZero: dropped)
                }
                Softmax.backward(y: p, dy: scratch, dx: scratch, rows: T, columns: T)
                // S = scale · Q K^T  ⇒  dQ = scale · dS K,  dK = scale · dS^T Q
                BLAS.gemm(m: T, n: d, k: T, alpha: scale, a: scratch, lda: T, b: k + o, ldb: H, c: dq + o, ldc: H)
                BLAS.gemm(
                    transposeA: true, m: T, n: d, k: T, alpha: scale, a: scratch, lda: T, b: q + o, ldb: H,
                    c: dk + o, ldc: H)
            }
        }
    }
    /// A subset of the query rows: compact row `i` is the flat position `rows[i]` (= b·T + t, ascending),
    /// and sample `b`'s rows are `rowStart[b] ..< rowStart[b + 1]`.
    public struct QueryRows {
        public var rows: UnsafePointer<Int32>  // [M]
        public var rowStart: UnsafePointer<Int32>  // [B + 1]
        public init(rows: UnsafePointer<Int32>, rowStart: UnsafePointer<Int32>) {
            self.rows = rows
            self.rowStart = rowStart
        }
    }

    /// `forward` for the query rows in `queries` only, against every key and value: the attention of
    /// a layer whose output is read at those rows alone (the MLM loss reads the masked positions).
    /// Each row equals the dense `forward`'s row, dropout included (the same element indices are drawn).
    ///
    /// - q, context: compact `[M, H]`; k, v: `[B*T, H]`; keyBias: `[B*T]`.
    /// - probs, droppedProbs: `[Σ_b A·m_b·T]`, sample b's block at `A·T·rowStart[b]`, head h's
    ///   `[m_b, T]` rows at `h·m_b·T` inside it.
    public static func forward(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        keyBias: UnsafePointer<Float>, shape s: Shape, queries: QueryRows,
        probs: UnsafeMutablePointer<Float>, droppedProbs: UnsafeMutablePointer<Float>?,
        dropout: DropoutKeys?, context: UnsafeMutablePointer<Float>
    ) {
        let t0 = KernelProfile.begin()
        let M = Int(queries.rowStart[s.batch])
        defer { KernelProfile.end(.attention, t0, flops: 4 * Double(M) * Double(s.seqLen * s.hidden)) }
        let T = s.seqLen, H = s.hidden, d = s.headSize, TT = T * T
        let scale = 1 / Float(d).squareRoot()
        Parallel.forTasks(s.batch * s.heads) { task, _ in
            let b = task / s.heads, h = task % s.heads
            let r0 = Int(queries.rowStart[b]), m = Int(queries.rowStart[b + 1]) - r0
            if m == 0 { return }
            let qh = q + r0 * H + h * d, kh = k + b * T * H + h * d, vh = v + b * T * H + h * d
            let offset = s.heads * T * r0 + h * m * T
            let p = probs + offset
            BLAS.gemm(transposeB: true, m: m, n: T, k: d, alpha: scale, a: qh, lda: H, b: kh, ldb: H, c: p, ldc: T)
            Softmax.forward(x: p, y: p, rows: m, columns: T, columnBias: keyBias + b * T)
            var used = UnsafePointer(p)
            if let dropout, let droppedProbs {
                let pd = droppedProbs + offset
                for i in 0..<m {
                    let t = Int(queries.rows[r0 + i]) - b * T
                    Dropout.forward(
                        x: p + i * T, y: pd + i * T, count: T, probability: dropout.probability,
                        key: dropout.keys[b], firstIndex: h * TT + t * T)
                }
                used = UnsafePointer(pd)
            }
            BLAS.gemm(m: m, n: d, k: T, a: used, lda: T, b: vh, ldb: H, c: context + r0 * H + h * d, ldc: H)
        }
    }

    /// Backward of `forward(…queries:…)`: writes (=) the compact `dq [M, H]` and the full `dk`, `dv`
    /// `[B*T, H]` (only the selected queries contribute; a sample without any gets zeros).
    /// `scratch` as for the dense `backward`.
    public static func backward(
        dContext: UnsafePointer<Float>,
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        probs: UnsafePointer<Float>, droppedProbs: UnsafePointer<Float>?,
        dropout: DropoutKeys?, shape s: Shape, queries: QueryRows,
        dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
        dv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        let t0 = KernelProfile.begin()
        let M = Int(queries.rowStart[s.batch])
        defer { KernelProfile.end(.attention, t0, flops: 8 * Double(M) * Double(s.seqLen * s.hidden)) }
        let T = s.seqLen, H = s.hidden, d = s.headSize
        let scale = 1 / Float(d).squareRoot()
        Parallel.forTasks(s.batch * s.heads) { task, worker in
            let b = task / s.heads, h = task % s.heads
            let r0 = Int(queries.rowStart[b]), m = Int(queries.rowStart[b + 1]) - r0
            let o = b * T * H + h * d
            if m == 0 {
                for t in 0..<T {
                    (dk + o + t * H).update(repeating: 0, count: d)
                    (dv + o + t * H).update(repeating: 0, count: d)
                }
                return
            }
            let scratch = scratch + worker * T * T
            let offset = s.heads * T * r0 + h * m * T
            let p = probs + offset
            let dropped = dropout != nil ? droppedProbs.map { $0 + offset } : nil
            let used = dropped ?? p
            let dch = dContext + r0 * H + h * d, qh = q + r0 * H + h * d
            // dV_h = P'^T · dC_h over the m selected queries.
            BLAS.gemm(transposeA: true, m: T, n: d, k: m, a: used, lda: T, b: dch, ldb: H, c: dv + o, ldc: H)
            // dP' = dC_h · V_h^T
            BLAS.gemm(transposeB: true, m: m, n: T, k: d, a: dch, lda: H, b: v + o, ldb: H, c: scratch, ldc: T)
            if let dropout, let dropped {
                Dropout.backward(
                    dy: scratch, dx: scratch, count: m * T, probability: dropout.probability,
                    keptWhereNonZero: dropped)
            }
            Softmax.backward(y: p, dy: scratch, dx: scratch, rows: m, columns: T)
            BLAS.gemm(m: m, n: d, k: T, alpha: scale, a: scratch, lda: T, b: k + o, ldb: H, c: dq + r0 * H + h * d, ldc: H)
            BLAS.gemm(
                transposeA: true, m: T, n: d, k: m, alpha: scale, a: scratch, lda: T, b: qh, ldb: H,
                c: dk + o, ldc: H)
        }
    }
}
