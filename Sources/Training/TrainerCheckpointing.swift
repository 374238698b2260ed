import Communication
import Core
import Data
import Foundation
import Kernels
import Model
import Selection

/// Resuming from the newest valid checkpoint and writing checkpoints (rank 0 writes, every rank learns the outcome).
extension Trainer {
    /// Loads the newest valid checkpoint (read by rank 0, broadcast to all ranks) if `--resume` was
    /// given and one exists. Every rank returns the same answer.
    public func resumeIfRequested() throws {
        guard options.resume, let dir = options.checkpointDirectory else { return }
        var header: [UInt8] = []
        var loaded: (state: CheckpointState, parameters: FloatBuffer, m: FloatBuffer, v: FloatBuffer, path: String)?
        if isRoot {
            loaded = TrainingCheckpoint.loadNewestValid(directory: dir) { self.output("warning: \($0)") }
            if let l = loaded { header = (try? JSONEncoder().encode(l.state)).map { Array($0) } ?? [] }
        }
        header = communicator.broadcast(header)
        if header.isEmpty {
            if isRoot { output("no valid checkpoint in \(dir); starting from step 0") }
            return
        }
        let state = try JSONDecoder().decode(CheckpointState.self, from: Data(header))
        guard state.config == model.config else {
            throw TrainingError(message: "checkpoint in \(dir) was written for a different model configuration")
        }
        guard state.runFingerprint == options.fingerprint else {
            throw TrainingError(message: "checkpoint in \(dir) was written with different settings (\(state.runFingerprint)); "
                                + "this run has (\(options.fingerprint))")
        }
        for (k, target) in [model.parameters, optimizer.m, optimizer.v].enumerated() {
            if let l = loaded { target.copy(from: [l.parameters, l.m, l.v][k]) }
            communicator.broadcast(target.pointer, count: target.count)
        }
        step = state.step
        samplesScored = state.samplesScored
        samplesBackpropagated = state.samplesBackpropagated
        elapsedBefore = state.elapsedSeconds
        if let f = state.fittedSchedule { fixSchedule(f) }
        if history != nil { history = ScoreHistory(capacity: options.historyLength, values: state.scoreHistory ?? []) }
        if let gate = state.siftStart { siftStart = gate }
        if let snapshot = state.staleScores, staleTable != nil {
            guard let table = StaleScoreTable(snapshot: snapshot, samples: train.count) else {
                throw TrainingError(message: "checkpoint in \(dir) holds a stale-score table that does not fit "
                                    + "the \(train.count) training samples")
            }
            staleTable = table
        }
        if isRoot { output("resumed from \(loaded!.path) at step \(step)") }
    }


    /// Rank 0 writes a checkpoint; every rank learns whether it succeeded.
    func saveCheckpoint(directory: String, elapsed: Double) throws {
        watchdog?.enter(.checkpoint, step: step)
        var failure: String?
        if isRoot {
            var state = CheckpointState(config: model.config, step: step, seed: options.seed,
                                        samplesScored: samplesScored, samplesBackpropagated: samplesBackpropagated,
                                        elapsedSeconds: elapsed, runFingerprint: options.fingerprint, vocabHash: vocabHash)
            state.fittedSchedule = fittedSchedule
            state.scoreHistory = history?.values
            state.staleScores = staleTable?.snapshot
            if options.policy.selects && options.siftStartLearned > 0 { state.siftStart = siftStart }
            do {
                try TrainingCheckpoint.save(state: state, parameters: model.parameters, m: optimizer.m, v: optimizer.v,
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
