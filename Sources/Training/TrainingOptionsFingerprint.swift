import Selection

/// The settings a checkpoint records and a resumed run (or a new `--phase-from` phase) must keep, and
/// how a difference is named.
extension TrainingOptions {
    /// Settings a resumed run must share with the run that wrote the checkpoint.
    public var fingerprint: String {
        var selection = ""
        if policy.selects {
            selection = " rule=\(effectiveRule.rawValue) score=\(score.rawValue)"
            if effectiveRule == .relative { selection += " history=\(historyLength) beta=\(beta)" }
            if staleScores > 0 { selection += " stale=\(staleScores)" }
            if scorePositions > 0 { selection += " score-positions=\(scorePositions)" }
            if scoreVocabulary > 0 { selection += " score-vocabulary=\(scoreVocabulary)" }
            if reuseScoringForward { selection += " reuse-scoring-forward" }
        }
        let length = fitsScheduleToBudget ? "budget=\(timeBudget ?? 0) refit=\(scheduleRefitEvery)" : "steps=\(steps)"
        // "selection-warmup" is the sifting delay's name in checkpoints written before it was renamed: kept so they resume.
        var delay = siftDelay > 0 ? " selection-warmup=\(siftDelay)" : ""
        if startsByLearnedShare { delay += " sift-start-learned=\(siftStartLearned)" }
        // Token masking and AdamW, the defaults, are left out, so that the checkpoints written before `--mask`
        // and `--optimizer` existed resume.
        let mask = masking == .tokens ? "" : " mask=\(masking.rawValue)"
        let rule = optimizer == .adamw ? "" : " optimizer=\(optimizer.rawValue)"
        return "policy=\(policy.rawValue) b=\(batchSize) rho=\(selectFraction) exit=\(exitLayer)\(delay)\(selection) "
            + "lr=\(learningRate) warmup=\(warmupSteps) \(length) wd=\(weightDecay) clip=\(clipNorm) seed=\(seed)\(mask)\(rule)"
    }

    /// The flag behind each key of `fingerprint`, and the value a key has when it is left out.
    static let fingerprintFlags: [String: (flag: String, absent: String)] = [
        "policy": ("--policy", "none"), "b": ("--batch-size", "none"), "rho": ("--select-fraction", "none"),
        "exit": ("--exit-layer", "none"), "selection-warmup": ("--sift-delay", "0"),
        "sift-start-learned": ("--sift-start-learned", "0"), "rule": ("--rule", "none"), "score": ("--score", "none"),
        "history": ("--history-length", "none"), "beta": ("--beta", "none"), "stale": ("--stale-scores", "0"),
        "score-positions": ("--score-positions", "0"), "score-vocabulary": ("--score-vocabulary", "0"),
        "reuse-scoring-forward": ("--reuse-scoring-forward", "off"), "lr": ("--lr", "none"), "warmup": ("--warmup", "none"),
        "steps": ("--steps", "none (schedule fitted to --time-budget)"), "budget": ("--time-budget", "none"),
        "refit": ("--schedule-refit-every", "none"), "wd": ("--weight-decay", "none"), "clip": ("--clip-norm", "none"),
        "seed": ("--seed", "none"), "mask": ("--mask", "tokens"),
        "optimizer": ("--optimizer", OptimizerKind.adamw.rawValue)
    ]

    /// The `fingerprint` keys a new phase (`--phase-from`) sets afresh: its learning-rate schedule (the earlier
    /// phase's may have been fitted to a `--time-budget`, which a new phase cannot use) and its global batch size
    /// (NVIDIA's phase 2 runs at half phase 1's batch).
    public static let newPhaseKeys: Set<String> = ["lr", "warmup", "steps", "budget", "refit", "b"]

    /// The settings that differ between a checkpoint's `fingerprint` (`recorded`) and this run's, one per
    /// field, as `--steps: checkpoint 300, now 400`, joined by "; " (empty when they agree); the keys in
    /// `ignoring` are not compared.
    public func fingerprintDifference(from recorded: String, ignoring: Set<String> = []) -> String {
        func fields(_ s: String) -> [String: String] {
            var d: [String: String] = [:]
            for token in s.split(separator: " ") {
                if let eq = token.firstIndex(of: "=") {
                    d[String(token[..<eq])] = String(token[token.index(after: eq)...])
                } else {
                    d[String(token)] = "on"
                }
            }
            return d
        }
        let then = fields(recorded), now = fields(fingerprint)
        return Set(then.keys).union(now.keys).subtracting(ignoring).sorted().compactMap { key -> String? in
            let known = Self.fingerprintFlags[key]
            let absent = known?.absent ?? "none"
            let a = then[key] ?? absent, b = now[key] ?? absent
            return a == b ? nil : "\(known?.flag ?? key): checkpoint \(a), now \(b)"
        }.joined(separator: "; ")
    }
}
