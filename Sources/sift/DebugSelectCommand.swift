import ArgumentParser
import Communication
import Foundation
import Selection

/// A check of the distributed selection on synthetic losses with many ties, for tests and for
/// users who want to see the exchange work on their cluster (`mpirun -np N sift debug-select`).
struct DebugSelectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug-select",
        abstract: "Run one global top-b selection over synthetic losses and print the result (rank 0).",
        discussion: "Losses are floor(hash(seed, global index) mod levels), so ties are common; the pool holds global indices N-1 … 0 so that tie-breaking by index is exercised. Prints one JSON object.",
        shouldDisplay: false)

    @Option(help: "Candidates in the global pool.") var pool: Int = 100
    @Option(help: "How many to select.") var count: Int = 10
    @Option(help: "Seed of the synthetic losses.") var seed: UInt64 = 1
    @Option(help: "Distinct loss values (fewer means more ties).") var levels: Int = 4
    @Option(help: "Selection policy: sift or proportional.") var policy: SelectionPolicy = .sift

    func validate() throws {
        guard pool >= 1 else { throw ValidationError("--pool must be at least 1") }
        guard count >= 0 && count <= pool else { throw ValidationError("--count must be in 0...pool") }
        guard levels >= 1 else { throw ValidationError("--levels must be at least 1") }
    }

    func run() throws {
        let comm = try Communicator()
        let indices = Array((0..<pool).reversed())
        let share = GlobalSelection.share(poolSize: pool, rank: comm.rank, size: comm.size)
        let local = share.map { SyntheticLoss.loss(seed: seed, index: indices[$0], levels: levels) }
        let result = GlobalSelection(communicator: comm).select(localLosses: local, pool: indices, count: count,
                                                                rule: policy.rule(choosing: .top),
                                                                seed: seed, step: 0)
        if comm.isRoot {
            let sel = result.selectedPositions.map { String(indices[$0]) }.joined(separator: ",")
            let per = result.selectedPerRank.map(String.init).joined(separator: ",")
            print("{\"ranks\":\(comm.size),\"selected\":[\(sel)],\"selected_per_rank\":[\(per)]}")
        }
        comm.finalize()
    }
}
