import ArgumentParser
import Selection
import Training

extension SelectionPolicy: ExpressibleByArgument {}
extension SelectionRule: ExpressibleByArgument {}
extension ScoreKind: ExpressibleByArgument {}

/// `sift train`'s flags for which samples a step backpropagates.
struct SelectionFlags: ParsableArguments {
    @Option(help: "What scores the candidates: sift (early-exit loss at --exit-layer), exact (the last layer's loss), vanilla (no scoring, plain data parallelism), proportional (sift scores, --selection proportional) or last-loss (no scoring forward: each candidate's training loss from the last step that backpropagated it; never-backpropagated samples first).")
    var policy: SelectionPolicy = .sift
    @Option(help: "Selection fraction ρ in (0, 1]: each step scores b/ρ candidates and keeps b. The default is larger than the paper's 0.5 because every rule measured gained about the same per backpropagated sample while scoring cost grows with b(1/ρ − 1) (README, \"SIFT against plain training\").")
    var selectFraction: Double = TrainingOptions().selectFraction
    @Option(help: "Encoder layer (1…L) whose output gives the approximate loss.")
    var exitLayer: Int = 1
    @Option(help: ArgumentHelp("How the pool is reduced to b: top (the paper's greedy top-b), relative (Selective-Backprop: b drawn with weight percentile^β of the score within the last --history scores) or proportional (b drawn with weight = score).",
                               valueName: "rule"))
    var selection: SelectionRule = TrainingOptions().rule
    @Option(help: "What candidates are ranked by: loss, or reducible (loss minus the masked labels' mean −log unigram frequency in the training data).")
    var score: ScoreKind = .loss
    @Option(help: "Scores in the rolling history of --selection relative (H).")
    var history: Int = 500
    @Option(help: "Exponent β of --selection relative (smart sifting keeps 1/(1+β) of the data at a threshold; here b of b/ρ are drawn, β sets how strongly high scores are preferred).")
    var beta: Double = 1
    @Option(help: "Reuse a candidate's score for up to this many steps instead of scoring it again (0: always score; Selective-Backprop's stale variant). In multi-epoch training a sample returns about every N/B steps.")
    var staleScores: Int = 0
    @Option(help: "Score each candidate from at most this many of its masked positions, a random subset keyed by (seed, step, sample) (0: all): less MLM-head work per candidate, a noisier estimate of the same mean loss.")
    var scorePositions: Int = 0
    @Option(parsing: .unconditional, help: "Score candidates over the K most frequent tokens of the training data plus each masked position's label instead of the whole vocabulary (0 or ≥ V: all; a K > 0 needs --data). The MLM decoder, most of an exit-1 scoring pass on small models, shrinks by V/K; the loss becomes a lower bound missing the rare tokens' mass. Default: \(TrainingOptions.defaultScoreVocabulary) for --policy sift with --data (BERT-mini: SIFT's step overhead +26.8% → +8.8% at V 30522, ranking fidelity unchanged at V 8192), 0 with --train-jsonl.")
    var scoreVocabulary: Int?
    @Flag(inversion: .prefixedNo,
          help: "Score with the training forward's dropout and keep each candidate's layers 1…exit, so a selected candidate's training forward resumes at the exit layer (memory: those activations for this rank's share of the pool, ≈ 2.9 MB per candidate for BERT-mini at exit 1, T 128). On by default: it cut SIFT's step overhead on BERT-mini from +20% to +9% at the same fidelity.")
    var reuseScoringForward: Bool = TrainingOptions().reuseScoringForward
    @Option(name: [.customLong("sift-delay"), .customLong("selection-warmup")],
            help: "Sifting delay: steps of plain training (no scoring, pool = b) before a selecting policy starts selecting. From scratch BERT-mini spends ~1,000 steps on the unigram plateau, where selecting by loss keeps it there; use 0 when --init-from starts from a trained model.")
    var siftDelay: Int = TrainingOptions().selectionWarmup

    /// Copies the flags into `options`.
    /// - hasCounts: whether the data has unigram counts (`--data`), which the default scoring vocabulary needs.
    func apply(to o: inout TrainingOptions, hasCounts: Bool) {
        o.policy = policy; o.selectFraction = selectFraction; o.exitLayer = exitLayer
        o.rule = selection; o.score = score; o.historyLength = history; o.beta = beta
        o.selectionWarmup = siftDelay; o.staleScores = staleScores; o.scorePositions = scorePositions
        o.reuseScoringForward = reuseScoringForward; o.scoreVocabulary = scoreVocabulary ?? (hasCounts && o.policy == .sift ? TrainingOptions.defaultScoreVocabulary : 0)
    }

    /// One line describing the selection, for the start-up banner.
    static func describe(_ o: TrainingOptions, numLayers: Int) -> String {
        guard o.policy.selects else { return "vanilla (no scoring)" }
        let path = o.scoringPath(numLayers: numLayers)
        let source = path.map { $0.exitLayer == numLayers && $0.positions == 0 && $0.classes == 0 ? "exact loss" : "exit layer \($0.exitLayer)" }
            ?? "last training loss (no scoring forward)"
        var s = "\(source), \(o.effectiveRule.rawValue)"
        if o.effectiveRule == .relative { s += " (H \(o.historyLength), β \(o.beta))" }
        if o.score == .reducible { s += ", reducible score" }
        if o.staleScores > 0 { s += ", scores reused up to \(o.staleScores) steps" }
        if let k = path?.positions, k > 0 { s += ", scored on ≤ \(k) masked positions" }
        if let k = path?.classes, k > 0 { s += ", scored over the \(k) most frequent tokens" }
        if path?.reusesForward == true { s += ", training resumes from the scoring forward" }
        if o.selectionWarmup > 0 { s += ", after \(o.selectionWarmup) plain steps" }
        return s
    }
}
