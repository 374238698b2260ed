/// Softmax cross-entropy over rows of logits, with the gradient written in place.
public enum CrossEntropy {
    /// For each of `rows` rows of `classes` logits with target `labels[r]` (in range):
    /// `losses[r] = logsumexp(logits[r]) - logits[r, label]` (nats) and `correct[r] = argmax == label`
    /// (first maximum wins). When `gradientScale` is non-nil, the row is overwritten with
    /// `gradientScale · (softmax(logits[r]) - onehot(label))`, the gradient of `gradientScale · Σ losses`.
    @inlinable
    public static func forwardBackward(logits: UnsafeMutablePointer<Float>, labels: UnsafePointer<Int32>,
                                       rows: Int, classes: Int,
                                       losses: UnsafeMutablePointer<Float>, correct: UnsafeMutablePointer<Bool>,
                                       gradientScale: Float?) {
        let t0 = KernelProfile.begin(); defer { KernelProfile.end(.crossEntropy, t0, bytes: 8 * Double(rows * classes)) }
        Parallel.forRanges(rows, minimumPerWorker: max(1, (1 << 16) / max(classes, 1))) { range in
            for r in range {
                let z = logits + r * classes
                let label = Int(labels[r])
                var maximum = z[0], argmax = 0
                for c in 1..<max(classes, 1) where z[c] > maximum { maximum = z[c]; argmax = c }
                let target = z[label]
                // With a gradient, exp(z - max) stays in place so the gradient pass does not recompute it.
                let sum = expShiftedSum(z, count: classes, shift: maximum, store: gradientScale != nil)
                if let scale = gradientScale {
                    let inverse = scale / sum
                    for c in 0..<classes { z[c] *= inverse }
                    z[label] -= scale
                }
                losses[r] = logf(sum) + maximum - target
                correct[r] = argmax == label
            }
        }
    }
}
