import ArgumentParser
import CostModel
import Selection
import Training

extension SelectionPolicy: ExpressibleByArgument {}
extension SelectionRule: ExpressibleByArgument {}
extension ScoreKind: ExpressibleByArgument {}
extension SelectionExchange: ExpressibleByArgument {}

/// `sift train`'s flags for which samples a step backpropagates.
struct SelectionFlags: ParsableArguments {
    @Option(
        help: """
            What ranks the candidates: sift (early-exit loss at --exit-layer), exact (the last layer's loss), \
            vanilla (no scoring: plain data parallelism), proportional (sift with --rule proportional) or last-loss \
            (each candidate's training loss from the last step that backpropagated it; no scoring forward).
            """)
    var policy: SelectionPolicy = trainDefaults.policy
    @Option(help: "Selection fraction ρ in (0, 1]: each step scores b/ρ candidates and keeps b.")
    var selectFraction: Double = trainDefaults.selectFraction
    @Option(help: "Encoder layer (1…L) whose output gives the approximate loss.")
    var exitLayer: Int = trainDefaults.exitLayer
    @Option(
        help: """
            How the pool is reduced to b: top (the b largest scores), relative (Selective-Backprop: b drawn with \
            weight percentile^β of the score within the last --history-length scores) or proportional (b drawn \
            with weight = score).
            """)
    var rule: SelectionRule = trainDefaults.rule
    @Option(help: "What candidates are ranked by: loss, or reducible (loss minus the masked labels' mean −log unigram frequency).")
    var score: ScoreKind = trainDefaults.score
    @Option(help: "Scores in the rolling history of --rule relative (H).")
    var historyLength: Int = trainDefaults.historyLength
    @Option(help: "Exponent β of --rule relative's percentile weights: how strongly high scores are preferred.")
    var beta: Double = trainDefaults.beta
    @Option(
        help: """
            How ranks agree on --rule top's selection (the same samples either way): allgather (every rank receives \
            every candidate's score, 4 bytes each, 8 with --score reducible), threshold (8 rounds of small allreduces \
            find the b-th largest score, then every rank receives a mask of 1 bit per candidate; needs --rule top \
            without --stale-scores) or auto (the cheaper by `sift project`'s model for this pool and rank count on \
            \(Interconnect.reference.name); the other rules always allgather).
            """)
    var selectionExchange: SelectionExchange = trainDefaults.selectionExchange
    @Option(help: "Reuse a candidate's score for up to this many steps instead of scoring it again (0: always score).")
    var staleScores: Int = trainDefaults.staleScores
    @Option(help: "Score each candidate from at most this many of its masked positions, a random subset (0: all).")
    var scorePositions: Int = trainDefaults.scorePositions
    @Option(
        parsing: .unconditional,
        help: """
            Score candidates over the K most frequent tokens of the training data plus each masked position's label \
            (0: the whole vocabulary; needs --data). Default: \(TrainingOptions.defaultScoreVocabulary) for --policy \
            sift with --data, else 0.
            """)
    var scoreVocabulary: Int?
    @Flag(
        inversion: .prefixedNo,
        help: """
            Score with the training forward's dropout and keep each candidate's layers 1…exit, so that a selected \
            candidate's training forward resumes at the exit layer (memory: those activations for this rank's share \
            of the pool).
            """)
    var reuseScoringForward: Bool = trainDefaults.reuseScoringForward
    @Option(
        help: """
            Sifting delay, in steps: plain training (no scoring, pool = b) before a selecting policy starts selecting. \
            The default is for training from scratch: with --init-from (a trained model) pass 0.
            """)
    var siftDelay: Int = trainDefaults.siftDelay
    @Option(
        help: """
            Start selecting only once the model has learned this share of the unigram loss: 1 − training loss / \
            a unigram model's loss on the same masked tokens, averaged over about 50 steps, in [0, 1); 0 = off \
            (the sifting delay alone). Both must pass. Needs --data.
            """)
    var siftStartLearned: Double = trainDefaults.siftStartLearned

    // The earlier names of --rule, --history-length and --sift-delay, kept working for existing scripts.
    @Option(name: .customLong("selection"), help: .hidden) var selectionAlias: SelectionRule?
    @Option(name: .customLong("history"), help: .hidden) var historyAlias: Int?
    @Option(name: .customLong("selection-warmup"), help: .hidden) var selectionWarmupAlias: Int?

    /// Copies the flags into `options`.
    /// - hasCounts: whether the data has unigram counts (`--data`), which the default scoring vocabulary needs.
    func apply(to o: inout TrainingOptions, hasCounts: Bool) {
        o.policy = policy
        o.selectFraction = selectFraction
        o.exitLayer = exitLayer
        o.rule = selectionAlias ?? rule
        o.score = score
        o.historyLength = historyAlias ?? historyLength
        o.beta = beta
        o.siftDelay = selectionWarmupAlias ?? siftDelay
        o.siftStartLearned = siftStartLearned
        o.staleScores = staleScores
        o.selectionExchange = selectionExchange
        o.scorePositions = scorePositions
        o.reuseScoringForward = reuseScoringForward
        o.scoreVocabulary = scoreVocabulary ?? (hasCounts && policy == .sift ? TrainingOptions.defaultScoreVocabulary : 0)
    }

    /// One line describing the selection, for the start-up banner.
    static func describe(_ o: TrainingOptions, numLayers: Int) -> String {
        guard o.policy.selects else { return "vanilla (no scoring)" }
        let path = o.scoringPath(numLayers: numLayers)
        let source =
            path.map { p -> String in
                p.exitLayer == numLayers && p.positions == 0 && p.classes == 0 ? "exact loss" : "exit layer \(p.exitLayer)"
            }
            ?? "last training loss (no scoring forward)"
        var s = "\(source), \(o.effectiveRule.rawValue)"
        if o.effectiveRule == .relative { s += " (H \(o.historyLength), β \(o.beta))" }
        if o.score == .reducible { s += ", reducible score" }
        if o.selectionExchange == .threshold { s += ", threshold exchange" }
        if o.staleScores > 0 { s += ", scores reused up to \(o.staleScores) steps" }
        if let k = path?.positions, k > 0 { s += ", scored on ≤ \(k) masked positions" }
        if let k = path?.classes, k > 0 { s += ", scored over the \(k) most frequent tokens" }
        if path?.reusesForward == true { s += ", training resumes from the scoring forward" }
        if o.siftDelay > 0 { s += ", after \(o.siftDelay) plain steps" }
        if o.startsByLearnedShare { s += String(format: ", once %.0f%% of the unigram loss is learned", 100 * o.siftStartLearned) }
        return s
    }
}
