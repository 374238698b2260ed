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
        discussion: """
            Losses are floor(hash(seed, global index) mod levels), so ties are common; the pool holds global indices \
            N-1 … 0 so that tie-breaking by index is exercised. Prints one JSON object. With --suite, runs every pool \
            of SyntheticLoss.adversarialCases through both exchanges and prints one JSON object per case.
            """,
        shouldDisplay: false)

    @Option(help: "Candidates in the global pool.") var pool: Int = 100
    @Option(help: "How many to select.") var count: Int = 10
    @Option(help: "Seed of the synthetic losses.") var seed: UInt64 = 1
    @Option(help: "Distinct loss values (fewer means more ties).") var levels: Int = 4
    @Option(help: "Selection policy: sift or proportional.") var policy: SelectionPolicy = .sift
    @Option(help: "Selection exchange: allgather or threshold (top rule only).") var exchange: SelectionExchange = .allgather
    @Flag(help: "Run the adversarial pools through both exchanges instead (ignores the other options but --seed).")
    var suite = false

    func validate() throws {
        guard pool >= 1 else { throw ValidationError("--pool must be at least 1") }
        guard count >= 0 && count <= pool else { throw ValidationError("--count must be in 0...pool") }
        guard levels >= 1 else { throw ValidationError("--levels must be at least 1") }
    }

    func run() throws {
        let comm = try Communicator()
        if suite {
            runSuite(comm)
            comm.finalize()
            return
        }
        let indices = Array((0..<pool).reversed())
        let share = GlobalSelection.share(poolSize: pool, rank: comm.rank, size: comm.size)
        let local = share.map { SyntheticLoss.loss(seed: seed, index: indices[$0], levels: levels) }
        var history: ScoreHistory? = nil
        let result = GlobalSelection(communicator: comm).select(
            localLosses: local, localScores: nil, pool: indices, count: count,
            rule: policy.rule(choosing: .top), history: &history, beta: 1,
            seed: seed, step: 0, exchange: exchange)
        if comm.isRoot {
            let sel = result.selectedPositions.map { String(indices[$0]) }.joined(separator: ",")
            let per = result.selectedPerRank.map(String.init).joined(separator: ",")
            print("{\"ranks\":\(comm.size),\"selected\":[\(sel)],\"selected_per_rank\":[\(per)]}")
        }
        comm.finalize()
    }

    /// Every adversarial case through both exchanges; rank 0 prints, per case and exchange, the selected
    /// global indices, the per-rank counts, the threshold's bit pattern and the non-finite loss counts.
    func runSuite(_ comm: Communicator) {
        let selection = GlobalSelection(communicator: comm)
        for c in SyntheticLoss.adversarialCases(seed: seed) {
            let share = GlobalSelection.share(poolSize: c.indices.count, rank: comm.rank, size: comm.size)
            var fields = ["\"case\":\"\(c.name)\"", "\"pool\":\(c.indices.count)", "\"count\":\(c.count)", "\"ranks\":\(comm.size)"]
            for exchange in [SelectionExchange.allgather, .threshold] {
                var history: ScoreHistory? = nil
                let r = selection.select(
                    localLosses: Array(c.losses[share]), localScores: c.scores.map { Array($0[share]) },
                    pool: c.indices, count: c.count, rule: .top, history: &history, beta: 1,
                    seed: seed, step: 0, exchange: exchange)
                let threshold = r.threshold.map { "\($0.bitPattern)" } ?? "null"
                fields.append(
                    "\"\(exchange.rawValue)\":{\"selected\":\(r.selectedPositions),\"per_rank\":\(r.selectedPerRank),"
                        + "\"threshold_bits\":\(threshold),\"invalid\":\(r.invalidLosses),\"infinite\":\(r.infiniteLosses),"
                        + "\"mean_candidate\":\(r.meanCandidateLoss.map { "\($0)" } ?? "null"),"
                        + "\"mean_selected\":\(r.meanSelectedLoss.map { "\($0)" } ?? "null")}")
            }
            if comm.isRoot { print("{" + fields.joined(separator: ",") + "}") }
        }
    }
}
