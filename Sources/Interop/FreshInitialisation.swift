import Foundation
import Model

/// Deterministic initialisation of tensors a checkpoint lacks (the MLM head of an encoder-only
/// `BertModel` checkpoint), following the tensor's `ParameterLayout.Initialisation`.
///
/// Normal values come from a counter-based generator keyed by (seed, tensor name, element index),
/// so they do not depend on which other tensors are initialised or in what order.
enum FreshInitialisation {
    /// SplitMix64 finaliser: a bijective 64-bit mix.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// FNV-1a hash of a tensor name, to key the generator.
    static func key(_ name: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// Fills `tensor` inside `parameters` with its initial values; `std` is the normal's deviation.
    static func initialise(_ tensor: ParameterLayout.Tensor, in parameters: UnsafeMutablePointer<Float>,
                           std: Float, seed: UInt64) {
        let out = parameters + tensor.offset
        switch tensor.initialisation {
        case .zeros: out.update(repeating: 0, count: tensor.count)
        case .ones: out.update(repeating: 1, count: tensor.count)
        case .normal:
            let base = mix(seed ^ mix(key(tensor.name)))
            for i in 0..<tensor.count {
                // Box–Muller on two 53-bit uniforms drawn from the counter (base, i).
                let r = mix(base &+ UInt64(i) &* 2)
                let s = mix(base &+ UInt64(i) &* 2 &+ 1)
                let u1 = (Double(r >> 11) + 1) * 0x1p-53   // (0, 1], so log is finite
                let u2 = Double(s >> 11) * 0x1p-53
                let z = (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
                out[i] = Float(z) * std
            }
        }
    }

    private static func _log(_ x: Double) -> Double { Foundation.log(x) }
    private static func _cos(_ x: Double) -> Double { Foundation.cos(x) }
}

