import Core

/// Synthetic per-sample losses with many ties, for checking the distributed selection against the
/// serial rule (`sift debug-select` and its tests compute the same values).
public enum SyntheticLoss {
    /// `floor(hash(seed, index) mod levels) + 0.5`: one of `levels` values, a pure function of the
    /// sample's global index, so every rank derives the same loss for the same sample.
    public static func loss(seed: UInt64, index: Int, levels: Int) -> Float {
        Float(CounterHash.bits(seed, RandomStream.syntheticLoss.rawValue, UInt64(index), 0) % UInt64(levels)) + 0.5
    }
}

extension SyntheticLoss {
    /// Pools that are hard on a threshold search, each at b = 1, a middle b and b = pool size: many ties,
    /// all scores equal, +0 against −0, floats one ulp apart, ±∞ with the extreme finite values and
    /// subnormals, negative scores, a sample drawn twice into one pool, separate ranking scores, a NaN
    /// loss, and continuous scores. The same on every rank (pure functions of `seed`). Used by `sift debug-select
    /// --suite` and its tests.
    public static func adversarialCases(seed: UInt64 = 1) -> [SelectionCase] {
        func hash(_ i: Int, _ salt: UInt64) -> UInt64 { CounterHash.bits(seed, RandomStream.syntheticLoss.rawValue, UInt64(i), salt) }
        var pools: [(String, [Int], [Float], [Float]?)] = []
        let down = Array((0..<37).reversed())
        pools.append(("levels", down, down.map { loss(seed: seed, index: $0, levels: 4) }, nil))
        pools.append(("all-equal", down, Array(repeating: 2.5, count: 37), nil))
        let zeros: [Float] = [0, -0.0, 1, -1, .leastNonzeroMagnitude, -.leastNonzeroMagnitude]
        pools.append(("signed-zeros", Array(0..<40), (0..<40).map { zeros[Int(hash($0, 1) % 6)] }, nil))
        pools.append(
            (
                "close-floats", down + (37..<50),
                (0..<50).map { i in
                    var x: Float = 3
                    for _ in 0..<(hash(i, 2) % 5) { x = hash(i, 3) % 2 == 0 ? x.nextUp : x.nextDown }
                    return x
                }, nil
            ))
        let extremes: [Float] = [
            .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
            .leastNormalMagnitude, .leastNonzeroMagnitude, Float(bitPattern: 0x0001_1170), -Float(bitPattern: 0x0001_1170), 0, 7
        ]
        pools.append(("extremes", Array(0..<30), (0..<30).map { extremes[Int(hash($0, 4) % 10)] }, nil))
        pools.append(("negative", down, down.map { -loss(seed: seed, index: $0, levels: 3) }, nil))
        // A pool across an epoch boundary can draw a sample twice: equal index and score, told apart by position.
        let twice = (0..<20).map { ($0 * 7) % 20 } + Array(0..<20)
        pools.append(("repeated-samples", twice, twice.map { loss(seed: seed, index: $0, levels: 2) }, nil))
        pools.append(
            (
                "separate-scores", down, down.map { loss(seed: seed, index: $0, levels: 5) },
                down.map { loss(seed: seed, index: $0, levels: 5) - loss(seed: seed &+ 1, index: $0, levels: 3) }
            ))
        // NaN stops training (the trainer rejects it); both exchanges must count it and still end.
        pools.append(("nan", down, down.map { $0 == 5 ? .nan : loss(seed: seed, index: $0, levels: 4) }, nil))
        pools.append(("continuous", Array((0..<100).map { $0 * 3 + 1 }), (0..<100).map { Float(hash($0, 5) % 1_000_003) / 1e5 }, nil))
        var cases: [SelectionCase] = []
        for (name, indices, losses, scores) in pools {
            for count in Set([1, 2, indices.count / 3, indices.count / 2, indices.count - 1, indices.count]).sorted() {
                cases.append(SelectionCase(name: name, indices: indices, losses: losses, scores: scores, count: count))
            }
        }
        return cases
    }
}
