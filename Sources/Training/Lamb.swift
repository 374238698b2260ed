import Foundation
import Kernels
import Model

/// LAMB (You et al., "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes", 2020)
/// over the flat parameter buffer, as NVIDIA's BERT pretraining runs it (apex `FusedLAMB`, `use_nvlamb`
/// off, with `bias`/`gamma`/`beta`/`LayerNorm` in the weight-decay-free group).
///
/// Per tensor of the `ParameterLayout`: Adam moments with bias correction, the update
/// u = m̂/(√v̂ + ε) + wd·p, and p ← p − lr·r·u with the trust ratio r = ‖p‖/‖u‖ (1 when either norm
/// is 0), both norms accumulated in Double. Tensors that do not decay (`Tensor.decays` false: biases
/// and LayerNorm) get neither the decay nor a trust ratio (r = 1): their step is AdamW's, bit for bit.
/// This is apex's rule, where only tensors with a non-zero weight decay are adapted; here the set is
/// fixed by the tensor's kind, so `--weight-decay 0` still adapts the weight matrices (apex would then
/// adapt nothing). Why this variant: docs/DECISIONS.md.
///
/// The update runs on the summed (allreduced) gradient like AdamW's, so the trust ratios, like the
/// weights, do not depend on the rank count. The state is the two moments; the step count is the trainer's.
public final class Lamb: ParameterOptimizer {
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    public let m: FloatBuffer
    public let v: FloatBuffer
    private let layout: ParameterLayout

    public init(
        layout: ParameterLayout, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-6,
        weightDecay: Float = 0.01
    ) {
        self.layout = layout
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        m = FloatBuffer(count: layout.totalCount)
        v = FloatBuffer(count: layout.totalCount)
    }

    /// The layer-wise trust ratio ‖p‖/‖u‖, or 1 when either norm is 0 (a zero-initialised tensor, or
    /// one with nothing to update) or not finite.
    public static func trustRatio(parameterNorm: Double, updateNorm: Double) -> Double {
        let r = parameterNorm / updateNorm
        return parameterNorm > 0 && updateNorm > 0 && r.isFinite ? r : 1
    }

    /// Applies one update. Two passes per tensor: the first advances the moments and sums ‖p‖² and ‖u‖²,
    /// the second applies −lr·r·u from the stored moments, so no update buffer is kept.
    public func update(
        parameters: FloatBuffer, gradients: FloatBuffer, learningRate: Float, step: Int,
        gradientScale: Float = 1
    ) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.optimizer, t0, bytes: 44 * Double(layout.totalCount)) }
        let b1 = beta1, b2 = beta2, eps = epsilon
        let c1 = 1 / (1 - Float(pow(Double(b1), Double(step))))
        let c2 = 1 / (1 - Float(pow(Double(b2), Double(step))))
        let p = parameters.pointer, g = gradients.pointer, mp = m.pointer, vp = v.pointer
        for tensor in layout.tensors {
            let range = tensor.offset..<(tensor.offset + tensor.count)
            let wd: Float = tensor.decays ? weightDecay : 0
            var parameterSquares = 0.0
            var updateSquares = 0.0
            for i in range {
                let gi = g[i] * gradientScale
                let mi = b1 * mp[i] + (1 - b1) * gi
                let vi = b2 * vp[i] + (1 - b2) * gi * gi
                mp[i] = mi
                vp[i] = vi
                let u = (mi * c1) / ((vi * c2).squareRoot() + eps) + wd * p[i]
                parameterSquares += Double(p[i]) * Double(p[i])
                updateSquares += Double(u) * Double(u)
            }
            let ratio =
                tensor.decays
                ? Self.trustRatio(parameterNorm: parameterSquares.squareRoot(), updateNorm: updateSquares.squareRoot())
                : 1
            let rate = Float(Double(learningRate) * ratio)
            let decay = rate * wd
            for i in range {
                // p − rate·u, written as AdamW writes its step (rate times the numerator, then the
                // division), so that where rate = lr and wd = 0 the result is AdamW's to the bit.
                p[i] = p[i] - rate * (mp[i] * c1) / ((vp[i] * c2).squareRoot() + eps) - decay * p[i]
            }
        }
    }
}
