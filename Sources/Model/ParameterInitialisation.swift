import Core

extension ParameterLayout {
    /// What keys a tensor's normal values, beside the seed.
    public enum InitialisationKey: Sendable, Equatable {
        /// The tensor's index in the layout (`RandomStream.initialisation`): a fresh model,
        /// `BertForMaskedLM(config:seed:)`.
        case index(Int)
        /// The tensor's name (`RandomStream.initialisationByName`): a tensor a checkpoint lacks, so that its
        /// values do not depend on which other tensors are initialised, or in what order.
        case name
    }

    /// The one initialiser of model weights: writes `tensor`'s initial values into `parameters` (a buffer in
    /// this layout) as HuggingFace's `_init_weights` does — zeros, ones, or Normal(0, `std`) by Box–Muller on
    /// two counter-based uniforms per element, keyed by (seed, `key`, element), so that they depend on nothing else.
    public static func initialise(
        _ tensor: Tensor, in parameters: UnsafeMutablePointer<Float>, std: Float, seed: UInt64,
        keyedBy key: InitialisationKey
    ) {
        let out = parameters + tensor.offset
        switch tensor.initialisation {
        case .zeros: out.update(repeating: 0, count: tensor.count)
        case .ones: out.update(repeating: 1, count: tensor.count)
        case .normal:
            switch key {
            case .index(let t):
                let k = CounterHash.key(seed, RandomStream.initialisation.rawValue, UInt64(t))
                for i in 0..<tensor.count {
                    let u1 = max(Double(CounterHash.mix(k ^ UInt64(2 * i)) >> 11) * 0x1p-53, 0x1p-60)
                    let u2 = Double(CounterHash.mix(k ^ UInt64(2 * i + 1)) >> 11) * 0x1p-53
                    out[i] = Float(BoxMuller.normal(u1, u2)) * std
                }
            case .name:
                let base = CounterHash.mix(
                    RandomStream.initialisationByName.seed(from: seed)
                        ^ CounterHash.mix(FNV1a64(tensor.name).value))
                for i in 0..<tensor.count {
                    let r = CounterHash.mix(base &+ UInt64(i) &* 2)
                    let s = CounterHash.mix(base &+ UInt64(i) &* 2 &+ 1)
                    let u1 = (Double(r >> 11) + 1) * 0x1p-53  // (0, 1], so log is finite
                    let u2 = Double(s >> 11) * 0x1p-53
                    out[i] = Float(BoxMuller.normal(u1, u2)) * std
                }
            }
        }
    }
}
