import Core
import Foundation

/// `sift advise`'s printed report: the warm start, the exit layers' fidelity, the probe per seed, the
/// overheads and predicted ratios, and the verdict with what to do.
public struct AdviceReport {
    public let advice: SelectionAdvice

    public init(advice: SelectionAdvice) { self.advice = advice }

    /// The probe's results on accuracy and on loss, and the verdict (the warm start and fidelity were printed
    /// as they were measured).
    public var lines: [String] {
        let a = advice
        var out = [
            "probe: final validation accuracy and loss per run; n* = vanilla's steps to the selecting run's value "
                + "(linear in the budget between \(a.shortSteps) and \(a.probeSteps), * outside it); gain = 1 − "
                + "\(a.shortSteps)/n*; ratio = (1 − gain)(1 + overhead)"
        ]
        for metric in Self.metrics where a.candidates.allSatisfy({ $0.prediction(metric) != nil }) {
            out.append("on \(metric.rawValue):")
            out.append(table(metric).render())
        }
        let vanillaSeconds = a.vanilla.map(\.secondsPerStep).reduce(0, +) / Double(max(1, a.vanilla.count))
        out.append(
            String(format: "\nstep time (training clock, %d rank(s)): vanilla %.3f s", a.ranks, vanillaSeconds)
                + a.candidates.map { c in
                    String(
                        format: "; %@ %.3f s (overhead %@, break-even gain %@)", name(c), c.secondsPerStep,
                        signedPct(c.overhead), signedPct(ProbeGain.breakEven(overhead: c.overhead)))
                }.joined())
        let exchanges = a.candidates.compactMap { c in c.selectionExchange.map { "\(name(c)) \($0.rawValue)" } }
        if !exchanges.isEmpty {
            out.append(
                "selection exchange (--selection-exchange resolved as `sift train` resolves it at \(a.ranks) rank(s)): "
                    + exchanges.joined(separator: "; "))
        }
        for c in a.candidates {
            let perMetric = Self.metrics.compactMap { metric in
                c.prediction(metric).map { "on \(metric.rawValue) \(Self.range($0.ratios)) — \($0.verdict.rawValue)" }
            }
            out.append("predicted wall-clock ratio, \(name(c)): " + perMetric.joined(separator: "; "))
            if let d = Self.disagreement(c) { out.append("  \(name(c)) \(d)") }
        }
        out.append("\nverdict (on \(a.verdictMetric.rawValue); --metric): " + verdict)
        return out
    }

    /// The metrics in the order printed.
    static let metrics: [ProbeGain.Metric] = [.accuracy, .loss]

    /// One metric's probe table: per configuration and seed, the runs' final values, n*, the gain and the ratio.
    func table(_ metric: ProbeGain.Metric) -> TextTable {
        let a = advice
        var t = TextTable([
            "configuration", "seed", "vanilla \(a.probeSteps)", "vanilla \(a.shortSteps)", "selecting \(a.shortSteps)",
            "n*", "gain", "ratio"
        ])
        func value(_ x: Double?) -> String { metric == .loss ? fmt(x, 4) : pct(x, 2) }
        for c in a.candidates {
            guard let p = c.prediction(metric), let values = c.values(metric) else { continue }
            for (s, v) in a.vanilla.enumerated() {
                let n = p.matchingSteps[s].map { String(format: "%.0f", $0) + (p.extrapolated[s] ? "*" : "") } ?? "—"
                let vanilla = v.values(metric)
                t.add([
                    s == 0 ? name(c) : "", "\(v.seed)", value(vanilla?.full), value(vanilla?.short), value(values[s]), n,
                    signedPct(p.gains[s]), fmt(p.ratios[s], 3)
                ])
            }
        }
        return t
    }

    /// "0.912 … 0.987 over 2 seeds", one ratio, or "not measurable".
    static func range(_ ratios: [Double?]) -> String {
        let known = ratios.compactMap { $0 }
        return known.isEmpty
            ? "not measurable"
            : known.count == 1
                ? fmt(known[0], 3)
                : "\(fmt(known.min(), 3)) … \(fmt(known.max(), 3)) over \(known.count) seeds"
    }

    /// When a configuration's verdicts on accuracy and on loss differ, what each says, the paying metric first:
    /// "pays on loss, not on accuracy", "pays on accuracy, undecided on loss", "does not pay on loss, undecided
    /// on accuracy". Nil when they agree or accuracy was not recorded.
    public static func disagreement(_ c: SelectionAdvice.Candidate) -> String? {
        guard let onAccuracy = c.prediction(.accuracy)?.verdict, onAccuracy != c.verdict else { return nil }
        let order: [SelectionAdvice.Verdict] = [.select, .notYet, .undecided]
        let both = [(ProbeGain.Metric.accuracy, onAccuracy), (.loss, c.verdict)]
            .sorted { order.firstIndex(of: $0.1)! < order.firstIndex(of: $1.1)! }
        let (first, second) = (both[0], both[1])
        let head = first.1 == .select ? "pays on \(first.0.rawValue)" : "does not pay on \(first.0.rawValue)"
        let tail = second.1 == .undecided ? "undecided on \(second.0.rawValue)" : "not on \(second.0.rawValue)"
        return head + ", " + tail
    }

    /// The warm start's line, printed before the probe runs.
    public static func warmStartLine(_ w: SelectionAdvice.WarmStart) -> String {
        String(
            format: "warm start: validation loss %.4f, accuracy %.2f%% over %d masked tokens", w.loss, 100 * w.accuracy,
            w.maskedTokens)
            + (w.learnedShare.map { String(format: "; learned share %.3f of the unigram loss (the stage of --sift-start-learned)", $0) }
                ?? "")
    }

    /// The exit layers' fidelity table, printed before the probe runs.
    public static func fidelityLines(_ fidelity: [SelectionAdvice.Fidelity]) -> [String] {
        guard !fidelity.isEmpty else { return [] }
        var t = TextTable(["exit layer", "Spearman", "top-b overlap"])
        for f in fidelity { t.add(["\(f.exitLayer)", fmt(f.spearman, 3), fmt(f.topOverlap, 3)]) }
        return [
            "exit layers against the exact loss (real pools of the data; Spearman of the losses, share of the top b kept):",
            t.render()
        ]
    }

    /// "exit 1, ρ 0.75"
    func name(_ c: SelectionAdvice.Candidate) -> String { "exit \(c.exitLayer), ρ \(c.selectFraction)" }

    /// The recommendation on the advice's metric as a sentence a user can act on, and the other metric's
    /// verdict when it differs.
    var verdict: String {
        let a = advice, metric = a.verdictMetric
        let target = "vanilla's \(metric == .loss ? "loss" : "accuracy")"
        var s: String
        switch a.verdict {
        case .select:
            let c = a.candidates[a.recommended!]
            s =
                "turn selection on: `sift train --policy sift --exit-layer \(c.exitLayer) --select-fraction \(c.selectFraction) "
                + "--sift-delay 0` from this checkpoint (every seed predicts it reaches \(target) sooner)."
        case .notYet:
            s =
                "not yet: on every seed selection would take longer than vanilla to reach \(target); keep training "
                + "plainly and probe again later in training."
        case .undecided where a.timingsDisturbed:
            s =
                "undecided: a rank was on a CPU only \(pct(a.cpuShare, 0)) of the wall time (other processes competed for "
                + "the cores), so the step times and the overhead are not this machine's; run again on an idle machine (the "
                + "gains per sample above do not depend on timing)."
        case .undecided:
            s =
                a.candidates.contains { $0.prediction(metric)?.gains.contains { $0 == nil } ?? true }
                ? "undecided: \(target) did not \(metric == .loss ? "fall" : "rise") between its two budgets on some seed, "
                    + "so the gain is not measurable; probe with more --probe-steps."
                : "undecided: the seeds disagree; probe with more --seeds or --probe-steps."
        }
        let other: ProbeGain.Metric = metric == .loss ? .accuracy : .loss
        if a.candidates.allSatisfy({ $0.prediction(other) != nil }) {
            let (v, _) = SelectionAdvice.conclude(a.candidates, metric: other, timingsDisturbed: a.timingsDisturbed)
            if v != a.verdict { s += " On \(other.rawValue) the verdict would be: \(v.rawValue) (--metric \(other.rawValue))." }
        }
        if let e = a.deeperExitHint {
            s += " Exit layer \(e) ranks pools markedly closer to the exact loss; it costs more per step: probe it with --exit-layers \(e)."
        }
        return s
    }
}
