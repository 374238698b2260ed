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
    public static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
                               scale: Float = 1, columnBias: UnsafePointer<Float>? = nil) {
        for r in 0..<rows {
            let xr = x + r * columns, yr = y + r * columns
            var maximum = -Float.infinity
            if let columnBias {
                for c in 0..<columns { let v = scale * xr[c] + columnBias[c]; yr[c] = v; maximum = Swift.max(maximum, v) }
            } else {
                for c in 0..<columns { let v = scale * xr[c]; yr[c] = v; maximum = Swift.max(maximum, v) }
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
    public static func backward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                rows: Int, columns: Int, scale: Float = 1) {
        for r in 0..<rows {
            let yr = y + r * columns, dyr = dy + r * columns, dxr = dx + r * columns
            var dot: Float = 0
            for c in 0..<columns { dot += dyr[c] * yr[c] }
            for c in 0..<columns { dxr[c] = scale * yr[c] * (dyr[c] - dot) }
        }
    }
}
