/// Row gather from an embedding table and its gradient scatter-add.
public enum Embedding {
    /// `out[r, :] (=|+=) table[ids[r], :]` for `rows` rows of `width`. Ids must be in range (the
    /// model validates batches before calling).
    @inlinable
    public static func gather(
        table: UnsafePointer<Float>, ids: UnsafePointer<Int32>, rows: Int, width: Int,
        out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.embedding, t0, bytes: (accumulate ? 12 : 8) * Double(rows * width)) }
        for r in 0..<rows {
            let src = table + Int(ids[r]) * width, dst = out + r * width
            if accumulate { for c in 0..<width { dst[c] += src[c] } } else { dst.update(from: src, count: width) }
        }
    }

    /// `dTable[ids[r], :] += dOut[r, :]` (rows sharing an id add up, in row order). Threads split the
    /// columns, so rows sharing an id never race and the sums match a serial loop bit for bit.
    @inlinable
    public static func scatterAdd(
        dOut: UnsafePointer<Float>, ids: UnsafePointer<Int32>, rows: Int, width: Int,
        dTable: UnsafeMutablePointer<Float>
    ) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.embedding, t0, bytes: 12 * Double(rows * width)) }
        Parallel.forRanges(width, minimumPerWorker: rows >= 1024 ? 64 : width) { columns in
            for r in 0..<rows {
                let src = dOut + r * width, dst = dTable + Int(ids[r]) * width
                for c in columns { dst[c] += src[c] }
            }
        }
    }

    /// `out[r, :] = x[rowIndices[r], :]`: gathers rows of an activation matrix (masked positions).
    @inlinable
    public static func gatherRows(
        _ x: UnsafePointer<Float>, rowIndices: UnsafePointer<Int32>, rows: Int, width: Int,
        out: UnsafeMutablePointer<Float>
    ) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.embedding, t0, bytes: 8 * Double(rows * width)) }
        for r in 0..<rows { (out + r * width).update(from: x + Int(rowIndices[r]) * width, count: width) }
    }
}
