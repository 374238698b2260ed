/// How ranks agree on a `top` selection. Both exchanges select exactly the same candidates; they
/// differ in what crosses the network (docs/ARCHITECTURE.md, "Selection exchange").
public enum SelectionExchange: String, CaseIterable, Sendable, Codable {
    /// `allgather` or `threshold`, whichever the scaling model (`sift project`) predicts cheaper for the
    /// pool size and rank count; resolved once, before training (`TrainingOptions.resolvedExchange`).
    case auto
    /// One allgather of every candidate's score (4 bytes each, 8 with a separate ranking score): every
    /// rank holds the whole pool and applies the serial rule. Serves every rule.
    case allgather
    /// Rounds of small allreduces find the global b-th largest score (and, among candidates tied with
    /// it, the cut by global index); one allgather of a bitmask (1 bit per candidate) then tells every
    /// rank the selection. Only for the `top` rule (`ThresholdSelection`).
    case threshold

    /// The collectives one selection of a pool of `pool` candidates over `ranks` ranks performs, as the
    /// scaling model prices them; `bytesPerCandidate` is what the allgather carries per candidate (4: the
    /// loss; 8: loss and score). The threshold exchange is counted without tie rounds (continuous scores
    /// rarely tie at the b-th largest); each tie that needs resolving adds ⌈log₁₆ pool⌉ rounds.
    public static func collectives(
        _ exchange: SelectionExchange, pool: Int, ranks: Int,
        bytesPerCandidate: Int = 4
    ) -> (smallAllreduces: Int, allgatherBytes: Double) {
        switch exchange {
        case .auto, .allgather:
            return (0, Double(bytesPerCandidate * pool))
        case .threshold:
            // Each rank's share is padded to whole bytes.
            let bytes = (0..<max(1, ranks)).reduce(0) {
                $0 + (GlobalSelection.share(poolSize: pool, rank: $1, size: max(1, ranks)).count + 7) / 8
            }
            return (ThresholdSelection.keyRounds, Double(bytes))
        }
    }
}
