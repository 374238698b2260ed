import Model

/// `sift train --optimizer`: which update rule turns the summed gradients into new weights.
public enum OptimizerKind: String, CaseIterable, Sendable {
    /// `AdamW`: the default, one node's BERT recipe.
    case adamw
    /// `Lamb`: AdamW's update rescaled per tensor by a trust ratio, for large global batches.
    case lamb

    /// A fresh optimizer of this kind (zero moments) over `layout`.
    public func make(layout: ParameterLayout, weightDecay: Float) -> any ParameterOptimizer {
        switch self {
        case .adamw: return AdamW(layout: layout, weightDecay: weightDecay)
        case .lamb: return Lamb(layout: layout, weightDecay: weightDecay)
        }
    }
}
