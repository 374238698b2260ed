import CostModel
import Selection

extension TrainingOptions {
    /// The selection exchange a run of these options uses at `ranks` ranks: `--selection-exchange` as given,
    /// or for `auto` the threshold exchange where it can select (`thresholdExchangeProblem`) and the scaling
    /// model predicts it cheaper for this pool and rank count on the reference network
    /// (`ScalingModel.cheaperSelectionExchange`, `Interconnect.reference`), else allgather. The one
    /// resolution of `auto`: every `Trainer` applies it, so `sift train`, `sift advise`'s probe runs and
    /// `sift bench`'s steps exchange alike.
    public func resolvedExchange(ranks: Int) -> SelectionExchange {
        guard selectionExchange == .auto else { return selectionExchange }
        guard thresholdExchangeProblem == nil else { return .allgather }
        return ScalingModel.cheaperSelectionExchange(pool: poolSize, ranks: ranks, bytesPerCandidate: score == .reducible ? 8 : 4)
    }

    /// These options with `selectionExchange` resolved for `ranks` ranks (`resolvedExchange(ranks:)`).
    public func resolvingExchange(ranks: Int) -> TrainingOptions {
        var o = self
        o.selectionExchange = resolvedExchange(ranks: ranks)
        return o
    }
}
