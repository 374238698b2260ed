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
        for r in 0..<rows {
            let z = logits + r * classes
            let label = Int(labels[r])
            var maximum = z[0], argmax = 0
            for c in 1..<max(classes, 1) where z[c] > maximum { maximum = z[c]; argmax = c }
            var sum: Float = 0
            for c in 0..<classes { sum += expf(z[c] - maximum) }
            let logSum = logf(sum) + maximum
            losses[r] = logSum - z[label]
            correct[r] = argmax == label
            if let scale = gradientScale {
                let inverse = scale / sum
                for c in 0..<classes { z[c] = expf(z[c] - maximum) * inverse }
                z[label] -= scale
            }
        }
    }
}
