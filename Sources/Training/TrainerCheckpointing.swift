import Communication
import Core
import Data
import Foundation
import Kernels
import Model
import Selection

extension CheckpointState {
    /// Why this checkpoint cannot continue a run of `options` on a model of `config` with the vocabulary
    /// hashed `vocabHash` and sequences of `seqLen` tokens, naming each field that differs with both values
    /// (e.g. `--steps: checkpoint 300, now 400`), or nil when it can. The phrase follows "checkpoint in DIR".
    /// A new phase (`newPhase`, `--phase-from`) may change the sequence length, the learning-rate schedule
    /// and the batch size (`TrainingOptions.newPhaseKeys`); everything else must match as for a resume.
    public func mismatch(options: TrainingOptions, config: BertConfig, vocabHash: String, seqLen: Int, newPhase: Bool = false)
        -> String?
    {
        // A new phase continues the step count past its own --steps, so only the counters are checked.
        let limit = newPhase ? 1 << 52 : (phaseStart ?? 0) + options.steps
        if let problem = implausibility(steps: limit) { return "has an impossible header: \(problem)" }
        if self.config != config {
            let now = Mirror(reflecting: config).children
            let fields = zip(Mirror(reflecting: self.config).children, now).compactMap { a, b -> String? in
                let x = "\(a.value)", y = "\(b.value)"
                return x == y ? nil : "\(a.label ?? "?"): checkpoint \(x), now \(y)"
            }
            return "was written for a different model configuration (\(fields.joined(separator: "; ")))"
        }
        if self.vocabHash != vocabHash {
            return "was trained with a different vocabulary (hash \(self.vocabHash), this run's \(vocabHash))"
        }
        let ignored = newPhase ? TrainingOptions.newPhaseKeys : []
        let difference = options.fingerprintDifference(from: runFingerprint, ignoring: ignored)
        if !difference.isEmpty {
            return "was written with other settings, which a resumed run must keep: " + difference
        }
        if newPhase, let last = options.stopAfter, last <= step {
            return "is at step \(step), where the new phase starts, and --stop-after \(last) is not after it "
                + "(--stop-after counts steps over every phase)"
        }
        if !newPhase, let trained = self.seqLen, trained != seqLen {
            return "was trained at sequence length \(trained), and this run's data has \(seqLen); a resume keeps "
                + "the length (start a new phase at another length with --phase-from into a new --checkpoint-dir)"
        }
        return nil
    }
}

extension CheckpointState {
    /// The first counter in the header that no run of at most `steps` steps could have written (a
    /// negative or overflowing count, a clock that is not a time, a schedule that ends before it starts),
    /// or nil. The header passed its checksum, so only a hand-edited or foreign file gets here; the
    /// trainer adds to these counters every step, so they are checked before it trusts them.
    public func implausibility(steps: Int) -> String? {
        let counterLimit = 1 << 52
        if step < 0 || step > steps { return "step \(step) outside 0…\(steps)" }
        for (name, value) in [("samplesScored", samplesScored), ("samplesBackpropagated", samplesBackpropagated)]
        where value < 0 || value > counterLimit {
            return "\(name) \(value) outside 0…\(counterLimit)"
        }
        if !(elapsedSeconds >= 0 && elapsedSeconds.isFinite) { return "elapsedSeconds \(elapsedSeconds) is not a time" }
        if let f = fittedSchedule {
            if f.decayStart < 0 || f.totalSteps < f.decayStart || f.totalSteps > steps {
                return "fitted schedule of \(f.totalSteps) steps decaying from step \(f.decayStart) (at most \(steps) steps)"
            }
            if let r = f.startRate, !(r >= 0 && r.isFinite) { return "fitted schedule's rate \(r)" }
            if let t = f.fittedAt, !(t >= 0 && t.isFinite) { return "fitted schedule's time \(t)" }
        }
        if let gate = siftStart, gate.observed < 0 || (gate.startStep ?? 0) < 0 || !gate.average.isFinite {
            return "sift start after \(gate.observed) steps at \(gate.startStep.map(String.init) ?? "none")"
        }
        if let h = scoreHistory, h.contains(where: { !$0.isFinite }) { return "a score history that is not finite" }
        if let p = phaseStart, p < 0 || p > step { return "phase start \(p) outside 0…\(step)" }
        for (name, value) in [("phaseStreamStart", phaseStreamStart), ("streamPosition", streamPosition)]
        where (value ?? 0) < 0 || (value ?? 0) > counterLimit {
            return "\(name) \(value ?? 0) outside 0…\(counterLimit)"
        }
        return nil
    }
}

/// Resuming from the newest valid checkpoint and writing checkpoints (rank 0 writes, every rank learns the outcome).
extension Trainer {
    /// Continues from `loaded` (rank 0's; ignored on the other ranks), broadcast to every rank. A new phase
    /// (`--phase-from`) also starts its own learning-rate schedule at the checkpoint's step, drops the
    /// budget-fitted schedule and the stale-score table (the samples are new), and writes its starting
    /// checkpoint into `--checkpoint-dir`. With
    /// nothing loaded on rank 0, every rank starts from step 0. Every rank returns the same answer.
    /// Rank 0 finds `loaded` with `TrainingCheckpoint.resumePoint`, which refuses a folder with nothing
    /// to resume unless `--resume-or-start` was given, so a run never starts over in silence.
    public func resume(from loaded: LoadedCheckpoint?) throws {
        let newPhase = options.phaseFrom != nil
        guard options.resume || newPhase, let dir = options.phaseFrom ?? options.checkpointDirectory else { return }
        var header: [UInt8] = []
        if isRoot, let l = loaded { header = (try? JSONEncoder().encode(l.state)).map { Array($0) } ?? [] }
        header = communicator.broadcast(header)
        if header.isEmpty {
            if isRoot { output("no valid checkpoint in \(dir); starting from step 0") }
            return
        }
        let state = try JSONDecoder().decode(CheckpointState.self, from: Data(header))
        if let problem = state.mismatch(
            options: options, config: model.config, vocabHash: vocabHash, seqLen: train.seqLen, newPhase: newPhase)
        {
            throw TrainingError(message: "checkpoint in \(dir) \(problem)")
        }
        for (k, target) in [model.parameters, optimizer.m, optimizer.v].enumerated() {
            if let l = loaded { target.copy(from: [l.parameters, l.m, l.v][k]) }
            communicator.broadcast(target.pointer, count: target.count)
        }
        step = state.step
        samplesScored = state.samplesScored
        samplesBackpropagated = state.samplesBackpropagated
        elapsedBefore = state.elapsedSeconds
        // A new phase starts its own schedule at this step; a resume continues the checkpoint's phase.
        phaseStart = newPhase ? state.step : state.phaseStart ?? 0
        if let f = state.fittedSchedule, !newPhase { fixSchedule(f) }
        if history != nil { history = ScoreHistory(capacity: options.historyLength, values: state.scoreHistory ?? []) }
        if let gate = state.siftStart { siftStart = gate }
        if newPhase {
            // The new phase's candidates continue where the checkpoint's next step would have drawn them.
            phaseStreamStart =
                state.streamPosition
                ?? siftStart.streamStart(
                    atStep: state.step, options: options, phaseStart: state.phaseStart ?? 0,
                    phaseStreamStart: state.phaseStreamStart ?? 0)
        } else {
            phaseStreamStart = state.phaseStreamStart ?? 0
        }
        // A new phase trains on other samples, whose indices the old stale-score table does not describe.
        if let snapshot = state.staleScores, staleTable != nil, !newPhase {
            guard let table = StaleScoreTable(snapshot: snapshot, samples: train.count) else {
                throw TrainingError(
                    message: "checkpoint in \(dir) holds a stale-score table that does not fit "
                        + "the \(train.count) training samples")
            }
            staleTable = table
        }
        // A new phase's folder holds its start from the first moment, so that a phase stopped before its
        // first checkpoint continues with --resume like any run (and shows where the phase began).
        if newPhase, let target = options.checkpointDirectory { try saveCheckpoint(directory: target, elapsed: elapsedBefore) }
        guard isRoot else { return }
        if newPhase {
            if let trained = state.seqLen, trained != train.seqLen {
                output("resuming at sequence length \(train.seqLen) from a checkpoint trained at \(trained)")
            }
            output(
                "new phase from \(loaded!.path) at step \(step): its own schedule of \(options.steps) steps "
                    + "(to step \(step + options.steps)), the optimizer state and the step count continued")
        } else {
            output("resumed from \(loaded!.path) at step \(step)")
        }
    }

    /// Rank 0 writes a checkpoint; every rank learns whether it succeeded.
    func saveCheckpoint(directory: String, elapsed: Double) throws {
        monitor.enter(.checkpoint, step: step)
        var failure: String?
        if isRoot {
            var state = CheckpointState(
                config: model.config, step: step, seed: options.seed,
                samplesScored: samplesScored, samplesBackpropagated: samplesBackpropagated,
                elapsedSeconds: elapsed, runFingerprint: options.fingerprint, vocabHash: vocabHash)
            state.fittedSchedule = fittedSchedule
            state.scoreHistory = history?.values
            state.staleScores = staleTable?.snapshot
            if options.startsByLearnedShare { state.siftStart = siftStart }
            state.seqLen = train.seqLen
            state.phaseStart = phaseStart > 0 ? phaseStart : nil
            state.phaseStreamStart = phaseStreamStart > 0 ? phaseStreamStart : nil
            state.streamPosition = streamPosition(atStep: step)
            do {
                try TrainingCheckpoint.save(
                    state: state, parameters: model.parameters, m: optimizer.m, v: optimizer.v,
                    directory: directory, keep: options.keepCheckpoints,
                    pauseSeconds: options.faults.savePause)
            } catch {
                failure = "\(error)"
            }
        }
        if !communicator.allAgree(failure == nil) {
            let reason = failure.map { ": " + $0 } ?? " (see rank 0)"
            throw TrainingError(message: "checkpoint at step \(step) could not be written\(reason); older checkpoints are kept")
        }
    }
}
