/// Row-wise softmax of `scale · x + columnBias`, used for attention probabilities.
///
/// `columnBias` is the additive attention mask (0 for keys to attend, `Softmax.maskedBias` for
/// padding), matching HuggingFace which adds `torch.finfo(float32).min` to masked scores.
public enum Softmax {
    /// The additive bias for masked positions: HuggingFace's `torch.finfo(torch.float32).min`.
    public static let maskedBias: Float = -Float.greatestFiniteMagnitude

    /// `y[r, :] = softmax(scale · x[r, :] + columnBias)` for `rows` rows of `columns` values.
    /// `x` and `y` may alias. Stable: subtracts the row maximum; a row whose entries are all `-inf`
    /// becomes uniform (the limit HuggingFace reaches with finite masking).
    @inlinable
    public static func forward(
        x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
        scale: Float = 1, columnBias: UnsafePointer<Float>? = nil
    ) {
        for r in 0..<rows {
            let xr = x + r * columns, yr = y + r * columns
            // Eight lanes at a time; the maximum is order-independent, so this equals a scalar loop's.
            var lanes = SIMD8<Float>(repeating: -.infinity)
            let scales = SIMD8<Float>(repeating: scale)
            var c = 0
            while c + 8 <= columns {
                var v = scales * Lanes.load(xr, c)
                if let columnBias { v += Lanes.load(columnBias, c) }
                Lanes.store(v, yr, c)
                lanes = lanes.replacing(with: v, where: v .> lanes)
                c += 8
            }
            var maximum = lanes.max()
            while c < columns {
                var v = scale * xr[c]
                if let columnBias { v += columnBias[c] }
                yr[c] = v
                maximum = Swift.max(maximum, v)
                c += 1
            }
            if maximum == -Float.infinity {
                let u = 1 / Float(columns)
                for c in 0..<columns { yr[c] = u }
                continue
            }
            let inverse = 1 / expShiftedSum(yr, count: columns, shift: maximum, store: true)
            for c in 0..<columns { yr[c] *= inverse }
        }
    }

    /// Backward of `forward`: `dx[r, c] = scale · y[r, c] · (dy[r, c] - Σ_j dy[r, j] · y[r, j])`.
    /// `dx` may alias `dy`.
    @inlinable
    public static func backward(
        y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
        rows: Int, columns: Int, scale: Float = 1
    ) {
        for r in 0..<rows {
            let yr = y + r * columns, dyr = dy + r * columns, dxr = dx + r * columns
            let dot = Lanes.dot(dyr, yr, count: columns)
            for c in 0..<columns { dxr[c] = scale * yr[c] * (dyr[c] - dot) }
        }
    }
}
