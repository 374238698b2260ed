/// Which candidates a training step backpropagates.
public enum SelectionPolicy: String, CaseIterable, Sendable, Codable {
    /// Score candidates with the early-exit loss at the exit layer and keep the global top b (SIFT).
    case sift
    /// Score candidates with the exact loss (exit at the last layer) and keep the global top b
    /// (the selective-backprop baseline).
    case exact
    /// No scoring: the pool is exactly the b samples backpropagated (plain data-parallel training).
    case vanilla
    /// Draw b candidates without replacement with probability proportional to the approximate loss.
    case proportional

    /// Whether candidates are scored at all.
    public var scores: Bool { self != .vanilla }
}
