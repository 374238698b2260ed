import ArgumentParser
import Foundation
import Training

/// `sift summary --metrics F`: the end-of-run summary a newcomer reads (launch/quickstart.sh prints it):
/// final validation, what selection did and cost, where the time went, where the outputs are and what
/// to run next.
struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Summarise a finished `sift train` run from its --metrics file.")

    @Option(help: "The run's --metrics JSON Lines file.")
    var metrics: String

    @Option(help: "The run's exported model directory (--export), shown with the next commands.")
    var model: String?

    @Option(help: "The run's --checkpoint-dir, shown with the command that continues it.")
    var checkpointDir: String?

    @Option(help: "The run's --data directory, shown with the command that trains further.")
    var data: String?

    @Option(
        help: "Wall-clock seconds the whole `sift train` took (the rest beyond the training clock is evaluation, start-up and checkpoints)."
    )
    var wallSeconds: Double?

    func run() throws {
        guard let text = try? String(contentsOfFile: metrics, encoding: .utf8) else {
            throw CommandFailure("cannot read --metrics \(metrics)", status: .badInput)
        }
        let summary: RunSummary
        do { summary = try RunSummary(metricsJSONLines: text) } catch let e as RunSummaryError {
            throw CommandFailure("\(metrics): \(e.message)", status: .badInput)
        }
        print(
            SummaryCommand.render(
                summary, metrics: metrics, model: model, checkpointDir: checkpointDir, data: data, wallSeconds: wallSeconds))
    }

    /// The summary block, one fact per line.
    static func render(_ s: RunSummary, metrics: String, model: String?, checkpointDir: String?, data: String?, wallSeconds: Double?)
        -> String
    {
        func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
        var lines = ["== summary of \(metrics) =="]
        if let f = s.final {
            let tokens = s.validationTokens.map { " over \($0) masked tokens" } ?? ""
            lines.append(String(format: "validation:  loss %.3f nats, accuracy %@ at step %d%@", f.loss, pct(f.accuracy), f.step, tokens))
            let earlier = s.evaluations.dropLast().map { String(format: "%d: %.3f / %@", $0.step, $0.loss, pct($0.accuracy)) }
            if !earlier.isEmpty { lines.append("  earlier (step: loss / accuracy): " + earlier.joined(separator: ", ")) }
        } else {
            lines.append("validation:  none (the run stopped before its final evaluation; continue it with --resume)")
        }
        lines.append(
            "training:    \(s.steps) steps on \(s.ranks) rank(s), \(s.samplesBackpropagated) samples backpropagated, \(s.samplesScored) scored"
        )
        if s.selectingSteps > 0 {
            lines.append("selection:   \(s.selectingSteps) of \(s.steps) steps selected (\(pct(s.selectingShare)))")
            if let sel = s.meanSelectingStep, let cost = s.meanSelectionCost {
                lines.append(
                    String(
                        format: "             a selecting step took %.3f s, of which scoring and selecting the pool %.3f s (%.1f%%)", sel,
                        cost, 100 * cost / sel)
                        + (s.meanPlainStep.map { String(format: "; a plain step %.3f s", $0) } ?? ""))
            }
            if let rho = s.meanSpearman, let overlap = s.meanTopOverlap {
                lines.append(
                    String(
                        format: "             fidelity to the exact loss (%d checks): Spearman %.3f, top-b overlap %.3f", s.fidelityChecks,
                        rho, overlap))
            }
        } else {
            lines.append("selection:   none (plain training: vanilla, or a sifting delay as long as the run)")
        }
        var time = String(format: "time:        training clock %.0f s", s.trainingSeconds)
        if let wall = wallSeconds, wall > s.trainingSeconds {
            time += String(format: " of %.0f s wall (%.0f s evaluation, start-up, checkpoints)", wall, wall - s.trainingSeconds)
        }
        lines.append(time)
        let total = s.phaseTotal
        if total > 0 {
            let parts = RunSummary.phaseOrder.compactMap { name -> String? in
                guard let seconds = s.phaseSeconds[name], seconds / total >= 0.005 else { return nil }
                let label = ["forward_backward": "forward+backward", "exposed_allreduce": "exposed allreduce"][name] ?? name
                return "\(label) \(pct(seconds / total))"
            }
            lines.append("             of it (rank 0): " + parts.joined(separator: ", "))
        }
        lines.append(
            "outputs:     metrics \(metrics)" + (model.map { ", model \($0)" } ?? "") + (checkpointDir.map { ", checkpoints \($0)" } ?? ""))
        lines.append("next:")
        if let dir = checkpointDir {
            lines.append("  resume:    if the run was interrupted, the same command with --resume continues from \(dir)")
        }
        if let m = model {
            lines.append("  further:   launch/mpirun.sh -np 2 -- train --init-from \(m) --data \(data ?? "DATA") --sift-delay 0 --steps N")
            lines.append("  score:     sift score --model \(m) --exit-layer 1 SAMPLES.jsonl   (each sample's exit-1 and exact loss)")
            lines.append("  export:    sift export --model \(checkpointDir ?? m) --hf OUT   (a HuggingFace BertForMaskedLM directory)")
        }
        lines.append("  read:      docs/TRAINING.md (every flag), docs/EXPERIMENTS.md (when selection pays)")
        return lines.joined(separator: "\n")
    }
}
