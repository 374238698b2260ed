/// Softmax cross-entropy over rows of logits, with the gradient written in place.
public enum CrossEntropy {
    /// For each of `rows` rows of `classes` logits with target `labels[r]` (in range):
    /// `losses[r] = logsumexp(logits[r]) - logits[r, label]` (nats) and `correct[r] = argmax == label`
    /// (first maximum wins). When `gradientScale` is non-nil, the row is overwritten with
    /// `gradientScale · (softmax(logits[r]) - onehot(label))`, the gradient of `gradientScale · Σ losses`.
    @inlinable
    public static func forwardBackward(
        logits: UnsafeMutablePointer<Float>, labels: UnsafePointer<Int32>,
        rows: Int, classes: Int,
        losses: UnsafeMutablePointer<Float>, correct: UnsafeMutablePointer<Bool>,
        gradientScale: Float?
    ) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.crossEntropy, t0, bytes: 8 * Double(rows * classes)) }
        Parallel.forRanges(rows, minimumPerWorker: max(1, (1 << 16) / max(classes, 1))) { range in
            for r in range {
                let z = logits + r * classes
                let label = Int(labels[r])
                var maximum = z[0], argmax = 0
                for c in 1..<max(classes, 1) where z[c] > maximum {
                    maximum = z[c]
                    argmax = c
                }
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

extension CrossEntropy {
    /// Cross-entropy over a subset of the classes plus each row's label (the scoring head's cheap loss,
    /// `sift train --score-vocabulary`): for each of `rows` rows of `classes` subset logits,
    /// `losses[r] = log(Σ_subset e^z + [label outside] e^labelLogit) − labelLogit` (nats), a lower bound of
    /// the full cross-entropy that omits the classes outside the subset but the label.
    ///
    /// - labelLogits: `[rows]` each row's label logit (taken from the subset when it is there).
    /// - labelColumns: `[rows]` the label's column in the subset, or −1 when it is outside.
    /// - correct: `[rows]` whether the label's logit is the first maximum of the subset and the label
    ///   (the label counts as last when it is outside the subset).
    @inlinable
    public static func subsetLosses(
        logits: UnsafeMutablePointer<Float>, classes: Int, labelLogits: UnsafePointer<Float>,
        labelColumns: UnsafePointer<Int32>, rows: Int,
        losses: UnsafeMutablePointer<Float>, correct: UnsafeMutablePointer<Bool>
    ) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.crossEntropy, t0, bytes: 4 * Double(rows * classes)) }
        Parallel.forRanges(rows, minimumPerWorker: max(1, (1 << 16) / max(classes, 1))) { range in
            for r in range {
                let z = logits + r * classes
                let target = labelLogits[r], column = Int(labelColumns[r])
                var maximum = classes > 0 ? z[0] : -.infinity, argmax = 0
                for c in 1..<max(classes, 1) where z[c] > maximum {
                    maximum = z[c]
                    argmax = c
                }
                let inside = column >= 0
                correct[r] = inside ? argmax == column : target > maximum
                let shift = inside ? maximum : Swift.max(maximum, target)
                var sum = expShiftedSum(z, count: classes, shift: shift, store: false)
                if !inside { sum += expNonPositive(SIMD8<Float>(repeating: target - shift))[0] }
                losses[r] = logf(sum) + shift - target
            }
        }
    }
}
