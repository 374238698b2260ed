import Core
import Foundation
import Model

/// Deterministic initialisation of tensors a checkpoint lacks (the MLM head of an encoder-only
/// `BertModel` checkpoint), following the tensor's `ParameterLayout.Initialisation`.
///
/// Normal values come from a counter-based generator keyed by (seed, tensor name, element index),
/// so they do not depend on which other tensors are initialised or in what order.
enum FreshInitialisation {
    /// Fills `tensor` inside `parameters` with its initial values; `std` is the normal's deviation.
    static func initialise(_ tensor: ParameterLayout.Tensor, in parameters: UnsafeMutablePointer<Float>,
                           std: Float, seed: UInt64) {
        let out = parameters + tensor.offset
        switch tensor.initialisation {
        case .zeros: out.update(repeating: 0, count: tensor.count)
        case .ones: out.update(repeating: 1, count: tensor.count)
        case .normal:
            let base = CounterHash.mix(seed ^ CounterHash.mix(FNV1a64(tensor.name).value))
            for i in 0..<tensor.count {
                // Box–Muller on two 53-bit uniforms drawn from the counter (base, i).
                let r = CounterHash.mix(base &+ UInt64(i) &* 2)
                let s = CounterHash.mix(base &+ UInt64(i) &* 2 &+ 1)
                let u1 = (Double(r >> 11) + 1) * 0x1p-53   // (0, 1], so log is finite
                let u2 = Double(s >> 11) * 0x1p-53
                out[i] = Float(BoxMuller.normal(u1, u2)) * std
            }
        }
    }
}

