import Foundation
import Kernels
import Model

/// AdamW (Loshchilov & Hutter) over the flat parameter buffer, with decoupled weight decay skipped
/// for biases and LayerNorm parameters (as BERT pretraining does).
///
/// Both moments mirror the parameter layout, so a step is one pass per tensor over contiguous memory
/// and a checkpoint is three straight writes.
public final class AdamW {
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    /// First moment, same layout as the parameters.
    public let m: FloatBuffer
    /// Second moment, same layout as the parameters.
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

    /// Applies one update. `step` counts from 1 (bias correction); `gradientScale` multiplies every
    /// gradient first (global-norm clipping folds in here instead of a separate pass).
    public func update(
        parameters: FloatBuffer, gradients: FloatBuffer, learningRate: Float, step: Int,
        gradientScale: Float = 1
    ) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.optimizer, t0, bytes: 28 * Double(layout.totalCount)) }
        let b1 = beta1, b2 = beta2, eps = epsilon
        let c1 = 1 / (1 - Float(pow(Double(b1), Double(step))))
        let c2 = 1 / (1 - Float(pow(Double(b2), Double(step))))
        let p = parameters.pointer, g = gradients.pointer, mp = m.pointer, vp = v.pointer
        for tensor in layout.tensors {
            let decay = tensor.decays ? 1 - learningRate * weightDecay : 1
            for i in tensor.offset..<(tensor.offset + tensor.count) {
                let gi = g[i] * gradientScale
                let mi = b1 * mp[i] + (1 - b1) * gi
                let vi = b2 * vp[i] + (1 - b2) * gi * gi
                mp[i] = mi
                vp[i] = vi
                p[i] = p[i] * decay - learningRate * (mi * c1) / ((vi * c2).squareRoot() + eps)
            }
        }
    }
}

/// The L2 norm of the whole flat buffer, accumulated in Double.
public func globalNorm(_ buffer: FloatBuffer) -> Double {
    var sum = 0.0
    let p = buffer.pointer
    for i in 0..<buffer.count {
        let x = Double(p[i])
        sum += x * x
    }
    return sum.squareRoot()
}
