import Core

/// Synthetic per-sample losses with many ties, for checking the distributed selection against the
/// serial rule (`sift debug-select` and its tests compute the same values).
public enum SyntheticLoss {
    /// `floor(hash(seed, index) mod levels) + 0.5`: one of `levels` values, a pure function of the
    /// sample's global index, so every rank derives the same loss for the same sample.
    public static func loss(seed: UInt64, index: Int, levels: Int) -> Float {
        Float(CounterHash.bits(seed, RandomStream.syntheticLoss.rawValue, UInt64(index), 0) % UInt64(levels)) + 0.5
    }
}
