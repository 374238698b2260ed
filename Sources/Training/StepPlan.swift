import Selection

/// One step's candidates: the pool drawn from the stream, their epochs, this rank's share of pool
/// positions, the rule in force and which positions need a fresh score (false: a stale score is reused).
/// The same on every rank but for `share`.
struct StepPlan {
    var pool: [Int]
    var epochs: [Int]
    var share: Range<Int>
    /// Whether this step reduces a larger pool to b (false during the sifting delay: the pool is the batch).
    var selects: Bool
    /// The rule reducing the pool when the step selects, else nil.
    var rule: SelectionRule?
    /// Per pool position, whether it is scored afresh (empty without a scoring forward or when not selecting).
    var fresh: [Bool]

    /// Candidates scored afresh this step (`samples_scored`).
    var freshCount: Int { fresh.lazy.filter { $0 }.count }

    /// (global index, epoch) of pool positions, as `fill` takes them.
    func samples<C: Collection<Int>>(_ positions: C) -> ArraySlice<(index: Int, epoch: Int)> {
        positions.map { (index: pool[$0], epoch: epochs[$0]) }[...]
    }
}

extension Trainer {
    /// Where step `step`'s candidates start in the stream, in this phase.
    func streamPosition(atStep step: Int) -> Int {
        siftStart.streamStart(atStep: step, options: options, phaseStart: phaseStart, phaseStreamStart: phaseStreamStart)
    }

    /// 0. The step's plan: b candidates before the sift start, the pool after; the stale-score table says
    /// which of them need a fresh score.
    func planStep() -> StepPlan {
        let selects = siftStart.selects(atStep: step)
        let size = siftStart.poolSize(atStep: step, options: options)
        let (pool, epochs) = stream.candidates(from: streamPosition(atStep: step), count: size)
        let fresh: [Bool] = selects && scorer != nil ? pool.map { staleTable?.needsScore($0, step: step) ?? true } : []
        let share = GlobalSelection.share(poolSize: size, rank: communicator.rank, size: communicator.size)
        return StepPlan(
            pool: pool, epochs: epochs, share: share, selects: selects,
            rule: selects ? options.effectiveRule : nil, fresh: fresh)
    }
}
