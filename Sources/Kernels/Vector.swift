/// Element-wise vector operations over contiguous Float buffers (residual connections, broadcasts).
public enum Vector {
    /// `y[i] += x[i]` for `count` elements.
    @inlinable
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.residual, t0, bytes: 12 * Double(count)) }
        Parallel.forRanges(count, minimumPerWorker: 1 << 16) { range in
            for i in range { y[i] += x[i] }
        }
    }

    /// `y[r·n + i] += x[i]` for every row `r` of `rows`: adds one `n`-float row to each row of `y`.
    @inlinable
    public static func addToEachRow(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, n: Int) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.residual, t0, bytes: 8 * Double(rows * n) + 4 * Double(n)) }
        Parallel.forRanges(rows, minimumPerWorker: max(1, (1 << 16) / max(n, 1))) { range in
            for r in range {
                let dst = y + r * n
                for i in 0..<n { dst[i] += x[i] }
            }
        }
    }
}
