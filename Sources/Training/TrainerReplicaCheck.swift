import Communication
import Core
import Data
import Foundation
import Kernels
import Model
import Selection

/// The replica check: every rank's weights must stay identical.
extension Trainer {
    /// Stops every rank with an error if the replicas' weights differ.
    func checkReplicas() throws {
        var c = Checksum64()
        c.update(UnsafeRawPointer(model.parameters.pointer), count: model.parameters.count * 4)
        let all = communicator.allgather(c.value)
        if Set(all).count > 1 {
            let bad = all.indices.filter { all[$0] != all[0] }
            throw TrainingError(message: "model replicas diverged at step \(step): ranks \(bad) differ from rank 0")
        }
    }
}
