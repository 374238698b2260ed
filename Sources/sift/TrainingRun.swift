import ArgumentParser
import Communication
import Core
import Foundation
import Interop
import Setup
import Training

/// `sift train` once its flags are parsed: start MPI, set up on every rank and agree that all succeeded,
/// train, and render the result (rank 0).
struct TrainingRun {
    let command: TrainCommand

    func run() throws {
        // First, so that an interrupt during start-up is a preemption at the first step boundary, not a
        // death by signal (SIGUSR1's default action ends the process) that a launcher would restart.
        Preemption.install()
        let job = try RankedJob.start()
        let comm = job.comm
        let say = job.say
        var setup = try job.setUp { () throws -> TrainingSetup in
            var s = try TrainingSetup.make(command.inputs, options: command.options(), ranks: comm.size)
            // Only rank 0 reads and writes checkpoints and outputs; its problems stop every rank through the
            // agreement. The resume point is looked for before any output folder is created.
            if comm.isRoot {
                let found = try s.findResumePoint()
                s.resumePoint = found.checkpoint
                s.warnings += found.warnings
                try OutputPaths.prepare(s.options, export: command.export)
            }
            return s
        }
        for w in setup.warnings where comm.isRoot { printError("warning: \(w)") }
        let trainer = Trainer(
            options: setup.options, model: setup.model, communicator: comm, train: setup.train,
            validation: setup.validation, vocabHash: setup.vocabHash, reference: setup.reference, output: say)
        // The trainer's options: `--selection-exchange auto` resolved for these ranks.
        setup.options = trainer.options
        banner(setup, ranks: comm.size).forEach(say)

        let preempted = try job.run(shared: { $0 is TrainingError ? ExitStatus.failed.rawValue : nil }) { () throws -> Bool in
            try trainer.resume(from: setup.resumePoint)
            setup.resumePoint = nil
            let summary = try trainer.run()
            if comm.isRoot {
                summaryLines(summary).forEach(say)
                if let dir = command.export, !summary.preempted {
                    let model = setup.model
                    try HuggingFaceCheckpoint.export(
                        config: model.config, layout: model.layout, parameters: model.parameters,
                        vocabPath: setup.vocabPath, to: dir, overwrite: command.overwriteExport)
                    say("exported HuggingFace model to \(dir)")
                }
            }
            return summary.preempted
        }
        comm.finalize()
        if preempted { throw ExitCode(Preemption.exitCode) }
    }

    /// Rank 0's opening lines: the model, the data and the selection.
    func banner(_ setup: TrainingSetup, ranks: Int) -> [String] {
        let o = setup.options, c = setup.model.config
        let length = o.fitsScheduleToBudget ? "schedule fitted to the \(Int(o.timeBudget!)) s budget" : "\(o.steps) steps"
        return [
            "sift train: \(o.policy.rawValue) on \(ranks) rank(s), model L\(c.numLayers)/H\(c.hiddenSize)/A\(c.numHeads) "
                + "(\(setup.model.layout.totalCount) parameters), \(setup.train.count) training samples of \(setup.train.seqLen) tokens",
            "  b = \(o.batchSize), pool B = \(o.poolSize), \(SelectionFlags.describe(o, numLayers: c.numLayers)), "
                + "lr \(o.learningRate), \(length)"
        ]
    }

    /// Rank 0's closing lines: totals, and the mean time per step of each phase.
    func summaryLines(_ summary: TrainingResult) -> [String] {
        let t = summary.phaseTimes.mean(over: summary.stepsTimed)
        return [
            String(
                format: "done: %d steps, %d samples scored, %d backpropagated, %.1f s", summary.steps,
                summary.samplesScored, summary.samplesBackpropagated, summary.elapsedSeconds),
            String(
                format: "time per step (rank 0): data %.3f s, scoring %.3f s, selection %.3f s, forward+backward %.3f s, "
                    + "exposed allreduce %.3f s, optimizer %.3f s, waiting %.3f s",
                t.data, t.scoring, t.selection, t.forwardBackward, t.exposedAllreduce, t.optimizer, t.waiting)
        ]
    }
}
