import Core
import Foundation
import Kernels
import Model
import Selection

/// A checkpoint read back whole: its state, parameters, both moments and the file it came from.
public typealias LoadedCheckpoint = (state: CheckpointState, parameters: FloatBuffer, m: FloatBuffer, v: FloatBuffer, path: String)

/// What `--resume` found in a checkpoint directory: the checkpoint to continue from (nil: start from
/// step 0, allowed by `--resume-or-start` only) and what was done on the way (damaged files set aside).
public struct ResumePoint {
    public var checkpoint: LoadedCheckpoint?
    /// Warnings for the user, one line each.
    public var warnings: [String] = []
}
