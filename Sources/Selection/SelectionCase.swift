/// One pool of scores built to trip a distributed `top` selection (`SyntheticLoss.adversarialCases`).
public struct SelectionCase: Sendable {
    public var name: String
    /// Global sample index of each pool position (repeated when a case draws a sample twice).
    public var indices: [Int]
    public var losses: [Float]
    /// Ranking scores other than the losses (as `--score reducible` gives), or nil.
    public var scores: [Float]?
    /// How many to select, b.
    public var count: Int

    public init(name: String, indices: [Int], losses: [Float], scores: [Float]?, count: Int) {
        (self.name, self.indices, self.losses, self.scores, self.count) = (name, indices, losses, scores, count)
    }
}
