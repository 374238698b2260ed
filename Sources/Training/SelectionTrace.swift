import Foundation

/// The global indices, losses (and scores) of one step's pool and the selected samples, for the
/// `--selection-log` file.
struct SelectionTrace {
    var pool: [Int]
    /// Non-finite values (+∞: a `last-loss` candidate never backpropagated) are written as null.
    var losses: [Float]
    /// The scores the rule ranked by, when they differ from the losses (`--score reducible`).
    var scores: [Float]?
    var selected: [Int]

    func json(step: Int) -> String {
        func floats(_ xs: [Float]) -> String { xs.map { $0.isFinite ? String(format: "%.9g", $0) : "null" }.joined(separator: ",") }
        var s = "{\"step\":\(step),\"pool\":[\(pool.map(String.init).joined(separator: ","))],\"losses\":[\(floats(losses))]"
        if let scores { s += ",\"scores\":[\(floats(scores))]" }
        return s + ",\"selected\":[\(selected.map(String.init).joined(separator: ","))]}"
    }
}
