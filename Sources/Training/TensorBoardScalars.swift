/// The scalars `--tensorboard` writes, taken from the metrics file's lines (so both carry the same values,
/// rounded as docs/METRICS.md says). Tags, one event per step:
///
/// - `train/loss`, `train/lr`, `train/grad_norm`: `train_loss`, `lr`, `grad_norm`;
/// - `train/step_seconds`: the sum of the step's phase `times` (rank 0's);
/// - `val/loss`, `val/accuracy`: on the steps that evaluated, and the final evaluation at the last step;
/// - `sift/selecting` (selecting policies): 1 when the step selected, 0 during the sifting delay; its
///   average over a stretch of steps is the share of steps that selected;
/// - `sift/threshold`: the smallest selected score, on the steps that selected;
/// - `sift/fidelity_spearman`, `sift/fidelity_top_overlap`: on the `--fidelity-every` steps;
/// - `sift/learned_share`: while `--sift-start-learned` waits.
extension TensorBoardWriter {
    /// Writes `line`'s scalars as one event; `selects` says whether the run's policy selects.
    func write(_ line: MetricsLine.StepLine, selects: Bool) {
        begin(step: line.step)
        add("train/loss", line.trainLoss)
        add("train/lr", line.lr)
        add("train/grad_norm", line.gradNorm)
        add("train/step_seconds", line.times.total)
        if let v = line.valLoss { add("val/loss", v) }
        if let v = line.valAccuracy { add("val/accuracy", v) }
        if selects { add("sift/selecting", line.threshold == nil ? 0 : 1) }
        if let v = line.threshold { add("sift/threshold", v) }
        if let v = line.fidelitySpearman { add("sift/fidelity_spearman", v) }
        if let v = line.fidelityTopOverlap { add("sift/fidelity_top_overlap", v) }
        if let v = line.learnedShare { add("sift/learned_share", v) }
        finish()
    }

    /// Writes the final evaluation as `val/loss` and `val/accuracy` at its step.
    func write(_ line: MetricsLine.FinalLine) {
        begin(step: line.step)
        add("val/loss", line.valLoss)
        add("val/accuracy", line.valAccuracy)
        finish()
    }
}
