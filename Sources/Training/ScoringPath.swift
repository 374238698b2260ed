/// How candidates are scored, decided once from the options (`TrainingOptions.scoringPath(numLayers:)`)
/// and read by the step, `--fidelity-every`, `sift bench --only fidelity` and `sift score` alike.
public struct ScoringPath: Sendable, Equatable {
    /// Encoder layer (1-based) whose output the loss is computed from; the last layer gives the exact loss.
    public var exitLayer: Int
    /// Masked positions a candidate is scored from, a random subset (`RandomStream.scoringPositions`); 0: all.
    public var positions: Int
    /// Classes the scoring head computes: the most frequent tokens plus each label (`ScoringVocabulary`); 0: all.
    public var classes: Int
    /// Score with the training forward's dropout and keep layers 1…exit, so that the training forward of a
    /// selected candidate resumes there (`ActivationPrefix`).
    public var reusesForward: Bool

    public init(exitLayer: Int, positions: Int = 0, classes: Int = 0, reusesForward: Bool = false) {
        self.exitLayer = exitLayer
        self.positions = positions
        self.classes = classes
        self.reusesForward = reusesForward
    }

    /// The exact loss: the last of `numLayers` layers, every masked position and class, no dropout.
    public static func exact(numLayers: Int) -> ScoringPath { ScoringPath(exitLayer: numLayers) }
}
