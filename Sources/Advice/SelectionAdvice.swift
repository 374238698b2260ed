import Selection

/// What `sift advise` measured and concludes, as rendered and written by `--json`.
public struct SelectionAdvice: Codable, Sendable {
    /// Whether selection pays for this run, from the probe's predicted wall-clock ratios.
    public enum Verdict: String, Codable, Sendable {
        /// Every seed predicts a ratio below 1.
        case select = "turn selection on"
        /// Every seed predicts a ratio of 1 or more.
        case notYet = "not yet"
        /// The seeds disagree, or a gain could not be measured.
        case undecided
    }

    /// The warm start's validation loss (nats per masked token) and accuracy before any probe step.
    public struct WarmStart: Codable, Sendable {
        public var loss: Double
        public var accuracy: Double
        public var maskedTokens: Int
        /// 1 − loss / a unigram model's loss on the same tokens: the stage `--sift-start-learned` measures.
        public var learnedShare: Double?
    }

    /// One exit layer's agreement with the exact loss on real pools of the data (`PoolFidelity`).
    public struct Fidelity: Codable, Sendable {
        public var exitLayer: Int
        public var spearman: Double?
        public var topOverlap: Double

        public init(exitLayer: Int, spearman: Double?, topOverlap: Double) {
            self.exitLayer = exitLayer
            self.spearman = spearman
            self.topOverlap = topOverlap
        }
    }

    /// One seed of vanilla's two budgets: final validation losses and accuracies, and seconds per step.
    public struct VanillaRuns: Codable, Sendable {
        public var seed: UInt64
        public var fullLoss: Double
        public var shortLoss: Double
        /// Final validation accuracies (fractions); nil in advice written before accuracy was recorded.
        public var fullAccuracy: Double?
        public var shortAccuracy: Double?
        public var secondsPerStep: Double

        public init(
            seed: UInt64, fullLoss: Double, shortLoss: Double, fullAccuracy: Double?, shortAccuracy: Double?,
            secondsPerStep: Double
        ) {
            self.seed = seed
            self.fullLoss = fullLoss
            self.shortLoss = shortLoss
            self.fullAccuracy = fullAccuracy
            self.shortAccuracy = shortAccuracy
            self.secondsPerStep = secondsPerStep
        }

        /// The metric's final values after the short and the full budget (nil: not recorded).
        public func values(_ metric: ProbeGain.Metric) -> (short: Double, full: Double)? {
            switch metric {
            case .loss: return (shortLoss, fullLoss)
            case .accuracy: return shortAccuracy.flatMap { s in fullAccuracy.map { (s, $0) } }
            }
        }
    }

    /// What one configuration's short runs predict on one metric, per seed (in `SelectionAdvice.vanilla`'s order).
    public struct Prediction: Equatable, Sendable {
        /// n* (nil: not measurable), whether it lies outside the measured budgets, the gain per sample.
        public var matchingSteps: [Double?]
        public var extrapolated: [Bool]
        public var gains: [Double?]
        /// (1 − gain)(1 + overhead).
        public var ratios: [Double?]
        public var verdict: Verdict

        public init(matchingSteps: [Double?], extrapolated: [Bool], gains: [Double?], ratios: [Double?], verdict: Verdict) {
            self.matchingSteps = matchingSteps
            self.extrapolated = extrapolated
            self.gains = gains
            self.ratios = ratios
            self.verdict = verdict
        }

        /// The prediction from the selecting runs' final `metric` values and vanilla's at its two budgets,
        /// per seed, and the configuration's step `overhead` (`ProbeGain`).
        public init(
            _ metric: ProbeGain.Metric, selecting: [Double], vanilla: [(short: Double, full: Double)], short: Int,
            full: Int, overhead: Double
        ) {
            let n = zip(selecting, vanilla).map { value, v in
                ProbeGain.matchingSteps(metric, value: value, short: short, shortValue: v.short, full: full, fullValue: v.full)
            }
            let gains = n.map { $0.map { ProbeGain.gain(matchingSteps: $0, short: short) } }
            let ratios = gains.map { $0.map { ProbeGain.ratio(gain: $0, overhead: overhead) } }
            self.init(
                matchingSteps: n,
                extrapolated: n.map { $0.map { ProbeGain.isExtrapolated(matchingSteps: $0, short: short, full: full) } ?? false },
                gains: gains, ratios: ratios, verdict: SelectionAdvice.verdict(ratios: ratios))
        }

        /// The worst predicted ratio over seeds (nil if any is missing).
        public var worstRatio: Double? { ratios.contains { $0 == nil } ? nil : ratios.compactMap { $0 }.max() }
    }

    /// One selecting configuration probed (exit layer × selection fraction) and what it predicts on each
    /// metric. The unprefixed fields are on loss (as advice written before accuracy was recorded has them);
    /// the `accuracy` ones are nil in such advice.
    public struct Candidate: Codable, Sendable {
        public var exitLayer: Int
        public var selectFraction: Double
        /// Final validation loss of its short run, per seed (in `SelectionAdvice.vanilla`'s order).
        public var losses: [Double]
        /// Its seconds per step over all seeds' runs.
        public var secondsPerStep: Double
        /// Its step time over vanilla's, minus 1.
        public var overhead: Double
        /// On loss: n* per seed (nil: not measurable), whether it lies outside the measured budgets, and the gain.
        public var matchingSteps: [Double?]
        public var extrapolated: [Bool]
        public var gains: [Double?]
        /// (1 − gain)(1 + overhead) per seed, on loss.
        public var ratios: [Double?]
        /// The verdict on loss.
        public var verdict: Verdict
        /// Final validation accuracy (fraction) of its short run per seed, and the prediction on accuracy.
        public var accuracies: [Double]?
        public var accuracyMatchingSteps: [Double?]?
        public var accuracyExtrapolated: [Bool]?
        public var accuracyGains: [Double?]?
        public var accuracyRatios: [Double?]?
        public var accuracyVerdict: Verdict?
        /// How its runs' ranks agreed on the selection: `--selection-exchange auto` resolved by the trainer exactly
        /// as `sift train` resolves it (`TrainingOptions.resolvedExchange`); nil in advice written before it was recorded.
        public var selectionExchange: SelectionExchange?

        public init(
            exitLayer: Int, selectFraction: Double, secondsPerStep: Double, overhead: Double, losses: [Double],
            loss: Prediction, accuracies: [Double]?, accuracy: Prediction?, selectionExchange: SelectionExchange? = nil
        ) {
            self.selectionExchange = selectionExchange
            self.exitLayer = exitLayer
            self.selectFraction = selectFraction
            self.secondsPerStep = secondsPerStep
            self.overhead = overhead
            self.losses = losses
            matchingSteps = loss.matchingSteps
            extrapolated = loss.extrapolated
            gains = loss.gains
            ratios = loss.ratios
            verdict = loss.verdict
            self.accuracies = accuracies
            accuracyMatchingSteps = accuracy?.matchingSteps
            accuracyExtrapolated = accuracy?.extrapolated
            accuracyGains = accuracy?.gains
            accuracyRatios = accuracy?.ratios
            accuracyVerdict = accuracy?.verdict
        }

        /// The final validation values of its short runs on `metric`, per seed (nil: not recorded).
        public func values(_ metric: ProbeGain.Metric) -> [Double]? { metric == .loss ? losses : accuracies }

        /// What it predicts on `metric` (nil: accuracy was not recorded).
        public func prediction(_ metric: ProbeGain.Metric) -> Prediction? {
            switch metric {
            case .loss:
                return Prediction(matchingSteps: matchingSteps, extrapolated: extrapolated, gains: gains, ratios: ratios, verdict: verdict)
            case .accuracy:
                guard let n = accuracyMatchingSteps, let x = accuracyExtrapolated, let g = accuracyGains, let r = accuracyRatios,
                    let v = accuracyVerdict
                else { return nil }
                return Prediction(matchingSteps: n, extrapolated: x, gains: g, ratios: r, verdict: v)
            }
        }
    }

    public var probeSteps: Int
    public var shortSteps: Int
    public var batchSize: Int
    public var ranks: Int
    public var warmStart: WarmStart
    public var fidelity: [Fidelity]
    public var vanilla: [VanillaRuns]
    public var candidates: [Candidate]
    /// The metric `verdict` and `recommended` follow (`--metric`; nil in advice written before accuracy was
    /// recorded, whose verdict is on loss).
    public var metric: ProbeGain.Metric?
    /// The candidate recommended (lowest worst-case ratio on `metric` among those whose verdict on it is
    /// `select`), if any.
    public var recommended: Int?
    public var verdict: Verdict
    /// A deeper exit layer that ranks markedly closer to the exact loss than the best candidate's (a hint to probe it).
    public var deeperExitHint: Int?
    /// The lowest share of its wall time any rank was on a CPU during the probe runs (below
    /// `minimumCPUShare`, other processes competed for the cores and the step times are not the machine's).
    public var cpuShare: Double

    /// Below this CPU share the overhead, and so the verdict, is not trusted.
    public static let minimumCPUShare = 0.8

    /// Whether other processes took so much CPU that the measured step times mean nothing.
    public var timingsDisturbed: Bool { cpuShare < SelectionAdvice.minimumCPUShare }

    /// The metric the verdict is on.
    public var verdictMetric: ProbeGain.Metric { metric ?? .loss }
}

extension SelectionAdvice {
    /// The verdict of one configuration from its per-seed ratios.
    public static func verdict(ratios: [Double?]) -> Verdict {
        let known = ratios.compactMap { $0 }
        guard !known.isEmpty, known.count == ratios.count else { return .undecided }
        if known.allSatisfy({ $0 < 1 }) { return .select }
        if known.allSatisfy({ $0 >= 1 }) { return .notYet }
        return .undecided
    }

    /// Gap in top-b overlap from which a deeper exit is suggested for a probe of its own.
    public static let deeperExitMargin = 0.1

    /// The overall verdict on `metric` and the recommended candidate: `undecided` when the timings were
    /// disturbed; else the candidate whose verdict on `metric` is `select` with the lowest worst-case ratio on
    /// it; else `undecided` if any candidate is undecided on it (or has no prediction on it); else `notYet`.
    public static func conclude(
        _ candidates: [Candidate], metric: ProbeGain.Metric,
        timingsDisturbed: Bool = false
    ) -> (verdict: Verdict, recommended: Int?) {
        if timingsDisturbed { return (.undecided, nil) }
        let predictions = candidates.map { $0.prediction(metric) }
        let selecting = predictions.indices.filter { predictions[$0]?.verdict == .select }
        if let best = selecting.min(by: { predictions[$0]!.worstRatio! < predictions[$1]!.worstRatio! }) { return (.select, best) }
        return (predictions.contains { $0 == nil || $0!.verdict == .undecided } ? .undecided : .notYet, nil)
    }

    /// The shallowest exit layer deeper than `exitLayer` whose top-b overlap exceeds `exitLayer`'s by
    /// `deeperExitMargin` or more, if any.
    public static func deeperExit(than exitLayer: Int, fidelity: [Fidelity]) -> Int? {
        guard let base = fidelity.first(where: { $0.exitLayer == exitLayer }) else { return nil }
        return fidelity.filter { $0.exitLayer > exitLayer && $0.topOverlap >= base.topOverlap + deeperExitMargin }
            .map(\.exitLayer).min()
    }
}
