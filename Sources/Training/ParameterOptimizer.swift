import Kernels

/// An optimizer over the flat parameter buffer whose whole state is two moment buffers in the
/// parameter layout (`AdamW`, `Lamb`), so a checkpoint stores any of them the same way and the
/// step count (saved beside them) is all else a resumed update needs.
public protocol ParameterOptimizer: AnyObject {
    /// First moment, same layout as the parameters.
    var m: FloatBuffer { get }
    /// Second moment, same layout as the parameters.
    var v: FloatBuffer { get }
    /// Applies one update. `step` counts from 1 (bias correction); `gradientScale` multiplies every
    /// gradient first (global-norm clipping folds in here instead of a separate pass).
    func update(parameters: FloatBuffer, gradients: FloatBuffer, learningRate: Float, step: Int, gradientScale: Float)
}

extension AdamW: ParameterOptimizer {}
