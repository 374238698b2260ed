import Kernels
import Model
import Foundation

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

    public init(layout: ParameterLayout, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-6,
                weightDecay: Float = 0.01) {
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
    public func update(parameters: FloatBuffer, gradients: FloatBuffer, learningRate: Float, step: Int,
                       gradientScale: Float = 1) {
        let t0 = KernelProfile.begin(); defer { KernelProfile.end(.optimizer, t0, bytes: 28 * Double(layout.totalCount)) }
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

/// Linear warm-up from 0 to the peak rate over `warmupSteps`, then linear decay to 0 at `totalSteps`.
public struct LearningRateSchedule: Sendable, Equatable {
    public let peak: Float
    public let warmupSteps: Int
    public let totalSteps: Int
    /// The last step at the peak rate; the rate then decays linearly to 0 at `totalSteps`.
    /// Equal to `warmupSteps` for a step-based schedule; later when the length is fitted to a time
    /// budget after calibration steps (the rate stays at its peak until the length is known).
    public let decayStart: Int
    /// The rate at `decayStart` from which the linear decay starts: `peak`, or lower when a budget-fitted
    /// schedule was re-fitted part-way through its decay.
    public let decayStartRate: Float

    public init(peak: Float, warmupSteps: Int, totalSteps: Int, decayStart: Int? = nil, decayStartRate: Float? = nil) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.decayStart = decayStart ?? warmupSteps
        self.decayStartRate = decayStartRate ?? peak
    }

    /// A schedule whose length is not known yet: linear warm-up, then the peak rate.
    public static func open(peak: Float, warmupSteps: Int) -> LearningRateSchedule {
        LearningRateSchedule(peak: peak, warmupSteps: warmupSteps, totalSteps: Int.max, decayStart: Int.max)
    }

    /// The rate for optimizer step `step` (1-based): linear warm-up to `peak` over `warmupSteps`,
    /// `peak` before `decayStart`, `decayStartRate` at it, then linear decay reaching 0 at `totalSteps`
    /// (a re-fitted schedule describes the steps from its `decayStart` on).
    public func rate(at step: Int) -> Float {
        if warmupSteps > 0 && step <= warmupSteps { return peak * Float(step) / Float(warmupSteps) }
        if step < decayStart { return peak }
        if step == decayStart { return decayStartRate }
        let remaining = max(0, totalSteps - step)
        let span = max(1, totalSteps - max(warmupSteps, decayStart))
        return decayStartRate * Float(remaining) / Float(span)
    }
}

/// The L2 norm of the whole flat buffer, accumulated in Double.
public func globalNorm(_ buffer: FloatBuffer) -> Double {
    var sum = 0.0
    let p = buffer.pointer
    for i in 0..<buffer.count { let x = Double(p[i]); sum += x * x }
    return sum.squareRoot()
}
