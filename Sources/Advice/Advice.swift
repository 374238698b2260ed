/// What `sift advise` measured and concludes, as rendered and written by `--json`.
public struct Advice: Codable, Sendable {
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

    /// One seed of vanilla's two budgets: final validation losses and seconds per step.
    public struct VanillaRuns: Codable, Sendable {
        public var seed: UInt64
        public var fullLoss: Double
        public var shortLoss: Double
        public var secondsPerStep: Double
    }

    /// One selecting configuration probed (exit layer × selection fraction) and what it predicts.
    public struct Candidate: Codable, Sendable {
        public var exitLayer: Int
        public var selectFraction: Double
        /// Final validation loss of its short run, per seed (in `Advice.vanilla`'s order).
        public var losses: [Double]
        /// Its seconds per step over all seeds' runs.
        public var secondsPerStep: Double
        /// Its step time over vanilla's, minus 1.
        public var overhead: Double
        /// n* per seed (nil: not measurable), whether it lies outside the measured budgets, and the gain.
        public var matchingSteps: [Double?]
        public var extrapolated: [Bool]
        public var gains: [Double?]
        /// (1 − gain)(1 + overhead) per seed.
        public var ratios: [Double?]
        public var verdict: Verdict

        public init(exitLayer: Int, selectFraction: Double, losses: [Double], secondsPerStep: Double, overhead: Double,
                    matchingSteps: [Double?], extrapolated: [Bool], gains: [Double?], ratios: [Double?], verdict: Verdict) {
            self.exitLayer = exitLayer
            self.selectFraction = selectFraction
            self.losses = losses
            self.secondsPerStep = secondsPerStep
            self.overhead = overhead
            self.matchingSteps = matchingSteps
            self.extrapolated = extrapolated
            self.gains = gains
            self.ratios = ratios
            self.verdict = verdict
        }

        /// The worst predicted ratio over seeds (nil if any is missing).
        public var worstRatio: Double? { ratios.contains { $0 == nil } ? nil : ratios.compactMap { $0 }.max() }
    }

    public var probeSteps: Int
    public var shortSteps: Int
    public var batchSize: Int
    public var ranks: Int
    public var warmStart: WarmStart
    public var fidelity: [Fidelity]
    public var vanilla: [VanillaRuns]
    public var candidates: [Candidate]
    /// The candidate recommended (lowest worst-case ratio among those whose verdict is `select`), if any.
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
    public var timingsDisturbed: Bool { cpuShare < Advice.minimumCPUShare }
}

extension Advice {
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

    /// The overall verdict and recommended candidate: `undecided` when the timings were disturbed; else the
    /// `select` candidate with the lowest worst-case ratio; else `undecided` if any candidate is; else `notYet`.
    public static func conclude(_ candidates: [Candidate], timingsDisturbed: Bool = false) -> (verdict: Verdict, recommended: Int?) {
        if timingsDisturbed { return (.undecided, nil) }
        let selecting = candidates.indices.filter { candidates[$0].verdict == .select }
        if let best = selecting.min(by: { candidates[$0].worstRatio! < candidates[$1].worstRatio! }) { return (.select, best) }
        return (candidates.contains { $0.verdict == .undecided } ? .undecided : .notYet, nil)
    }

    /// The shallowest exit layer deeper than `exitLayer` whose top-b overlap exceeds `exitLayer`'s by
    /// `deeperExitMargin` or more, if any.
    public static func deeperExit(than exitLayer: Int, fidelity: [Fidelity]) -> Int? {
        guard let base = fidelity.first(where: { $0.exitLayer == exitLayer }) else { return nil }
        return fidelity.filter { $0.exitLayer > exitLayer && $0.topOverlap >= base.topOverlap + deeperExitMargin }
            .map(\.exitLayer).min()
    }
}
