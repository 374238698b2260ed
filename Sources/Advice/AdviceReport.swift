import Foundation
import Performance

/// `sift advise`'s printed report: the warm start, the exit layers' fidelity, the probe per seed, the
/// overheads and predicted ratios, and the verdict with what to do.
public struct AdviceReport {
    public let advice: Advice

    public init(advice: Advice) { self.advice = advice }

    /// The probe's results and the verdict (the warm start and fidelity were printed as they were measured).
    public var lines: [String] {
        let a = advice
        var out = ["probe: final validation loss per run; n* = vanilla's steps to the selecting run's loss (linear in the budget "
                   + "between \(a.shortSteps) and \(a.probeSteps), * outside it); gain = 1 − \(a.shortSteps)/n*; "
                   + "ratio = (1 − gain)(1 + overhead)"]
        var t = TextTable(["configuration", "seed", "vanilla \(a.probeSteps)", "vanilla \(a.shortSteps)", "selecting \(a.shortSteps)",
                           "n*", "gain", "ratio"])
        for c in a.candidates {
            for (s, v) in a.vanilla.enumerated() {
                let n = c.matchingSteps[s].map { String(format: "%.0f", $0) + (c.extrapolated[s] ? "*" : "") } ?? "—"
                t.add([s == 0 ? name(c) : "", "\(v.seed)", fmt(v.fullLoss, 4), fmt(v.shortLoss, 4), fmt(c.losses[s], 4), n,
                       signedPct(c.gains[s]), fmt(c.ratios[s], 3)])
            }
        }
        out.append(t.render())
        let vanillaSeconds = a.vanilla.map(\.secondsPerStep).reduce(0, +) / Double(max(1, a.vanilla.count))
        out.append(String(format: "\nstep time (training clock, %d rank(s)): vanilla %.3f s", a.ranks, vanillaSeconds)
                   + a.candidates.map { c in
                       String(format: "; %@ %.3f s (overhead %@, break-even gain %@)", name(c), c.secondsPerStep,
                              signedPct(c.overhead), signedPct(ProbeGain.breakEven(overhead: c.overhead)))
                   }.joined())
        for c in a.candidates {
            let known = c.ratios.compactMap { $0 }
            let range = known.isEmpty ? "not measurable" : known.count == 1 ? fmt(known[0], 3)
                : "\(fmt(known.min(), 3)) … \(fmt(known.max(), 3)) over \(known.count) seeds"
            out.append("predicted wall-clock ratio, \(name(c)): \(range) — \(c.verdict.rawValue)")
        }
        out.append("\nverdict: " + verdict)
        return out
    }

    /// The warm start's line, printed before the probe runs.
    public static func warmStartLine(_ w: Advice.WarmStart) -> String {
        String(format: "warm start: validation loss %.4f, accuracy %.2f%% over %d masked tokens", w.loss, 100 * w.accuracy,
               w.maskedTokens)
            + (w.learnedShare.map { String(format: "; learned share %.3f of the unigram loss (the stage of --sift-start-learned)", $0) } ?? "")
    }

    /// The exit layers' fidelity table, printed before the probe runs.
    public static func fidelityLines(_ fidelity: [Advice.Fidelity]) -> [String] {
        guard !fidelity.isEmpty else { return [] }
        var t = TextTable(["exit layer", "Spearman", "top-b overlap"])
        for f in fidelity { t.add(["\(f.exitLayer)", fmt(f.spearman, 3), fmt(f.topOverlap, 3)]) }
        return ["exit layers against the exact loss (real pools of the data; Spearman of the losses, share of the top b kept):",
                t.render()]
    }

    /// "exit 1, ρ 0.75"
    func name(_ c: Advice.Candidate) -> String { "exit \(c.exitLayer), ρ \(c.selectFraction)" }

    /// The recommendation as a sentence a user can act on.
    var verdict: String {
        let a = advice
        var s: String
        switch a.verdict {
        case .select:
            let c = a.candidates[a.recommended!]
            s = "turn selection on: `sift train --policy sift --exit-layer \(c.exitLayer) --select-fraction \(c.selectFraction) "
                + "--sift-delay 0` from this checkpoint (every seed predicts it reaches vanilla's loss sooner)."
        case .notYet:
            s = "not yet: on every seed selection would take longer than vanilla to the same loss from here; keep training "
                + "plainly and probe again later in training."
        case .undecided where a.timingsDisturbed:
            s = "undecided: a rank was on a CPU only \(pct(a.cpuShare, 0)) of the wall time (other processes competed for "
                + "the cores), so the step times and the overhead are not this machine's; run again on an idle machine (the "
                + "gains per sample above do not depend on timing)."
        case .undecided:
            s = a.candidates.contains { $0.gains.contains { $0 == nil } }
                ? "undecided: vanilla's loss did not fall between its two budgets on some seed, so the gain is not measurable; "
                    + "probe with more --probe-steps."
                : "undecided: the seeds disagree; probe with more --seeds or --probe-steps."
        }
        if let e = a.deeperExitHint {
            s += " Exit layer \(e) ranks pools markedly closer to the exact loss; it costs more per step: probe it with --exit-layers \(e)."
        }
        return s
    }
}
