import Model

/// Resuming the training forward at the exit layer from the scoring forward's kept activations
/// (`--reuse-scoring-forward`).
extension Trainer {
    /// Prefix slots of each training micro-batch of `assigned` (pool positions, in micro-batch order).
    /// Samples this rank did not score this step (moved here by rebalancing, or with a stale score) get
    /// their prefix computed now, in one extra forward, so every training sample resumes at the exit layer.
    func resumeSlots(_ plan: StepPlan, assigned: [Int], prefix: ActivationPrefix) -> [[PrefixSlot]?] {
        func kept(_ position: Int) -> PrefixSlot? {
            plan.share.contains(position) ? prefixSlots[position - plan.share.lowerBound] : nil
        }
        let missing = assigned.filter { kept($0) == nil }
        var computed: [PrefixSlot] = []  // in the order of `missing`, which keeps `assigned`'s order
        inMicroBatches(missing) { positions in
            let chunk = model.forwardPrefix(fill(plan.samples(positions), from: train), dropoutSeed: dropoutSeed, into: prefix)
            computed += positions.indices.map { PrefixSlot(chunk: chunk, row: $0 - positions.startIndex) }
        }
        var slots: [[PrefixSlot]?] = [], next = 0
        inMicroBatches(assigned) { positions in
            slots.append(
                positions.map { position in
                    if let slot = kept(position) { return slot }
                    next += 1
                    return computed[next - 1]
                })
        }
        return slots
    }
}
