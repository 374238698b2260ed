import Foundation

/// A small generated corpus, its vocabulary and prepared dataset, built once with the real `sift`
/// binary (vocab + prepare) and shared by the multi-rank training tests.
public enum TrainingFixture {
    public struct Paths {
        public var root: String
        public var vocab: String
        public var dataset: String
    }

    nonisolated(unsafe) private static var cached: Paths?

    /// Builds (once per test process) a corpus of 400 short documents over a 300-word lexicon.
    public static func paths() throws -> Paths {
        if let cached { return cached }
        let root = NSTemporaryDirectory() + "sift-train-fixture-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root + "/corpus", withIntermediateDirectories: true)
        var state: UInt64 = 12345
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33)
        }
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let lexicon = (0..<300).map { _ in String((0..<(2 + next() % 6)).map { _ in letters[next() % 26] }) }
        var text = ""
        for _ in 0..<400 {
            for _ in 0..<(1 + next() % 3) {
                text += (0..<(5 + next() % 12)).map { _ in lexicon[min(next() % 300, next() % 300)] }.joined(separator: " ") + ".\n"
            }
            text += "\n"
        }
        try text.write(toFile: root + "/corpus/text.txt", atomically: true, encoding: .utf8)
        let vocab = try SiftProcess.run(["vocab", "--corpus", root + "/corpus", "--size", "400", "--out", root + "/vocab.txt"])
        guard vocab.status == 0 else { throw FixtureError(message: "sift vocab failed: \(vocab.stderr)") }
        let prep = try SiftProcess.run([
            "prepare", "--corpus", root + "/corpus", "--vocab", root + "/vocab.txt",
            "--seq-len", "32", "--out", root + "/dataset", "--validation-fraction", "0.05"
        ])
        guard prep.status == 0 else { throw FixtureError(message: "sift prepare failed: \(prep.stderr)") }
        let p = Paths(root: root, vocab: root + "/vocab.txt", dataset: root + "/dataset")
        cached = p
        return p
    }

    /// Arguments of a short `sift train` run of the tiny model on the fixture.
    public static func trainArguments(_ p: Paths, policy: String, steps: Int, checkpointDir: String, extra: [String] = []) -> [String] {
        [
            "train", "--config", "tiny", "--data", p.dataset, "--vocab", p.vocab, "--policy", policy,
            "--exit-layer", "1", "--select-fraction", "0.5", "--batch-size", "12", "--micro-batch", "4",
            "--steps", "\(steps)", "--warmup", "2", "--lr", "2e-3", "--eval-every", "0", "--eval-samples", "16",
            "--checkpoint-dir", checkpointDir, "--log-every", "1", "--seed", "99"
        ]
            // Selection from the first step unless a test sets the delay (the default is 100 plain steps).
            + (extra.contains("--sift-delay") ? [] : ["--sift-delay", "0"]) + extra
    }

    public struct FixtureError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
        public init(message: String) { self.message = message }
    }
}
