import Foundation
import SiftTestSupport
import XCTest

/// The scripts in launch/ parse their flags with launch/lib.sh's helpers: every script answers `--help`
/// with its header, and a flag given without its value is refused with one `error:` line naming the flag
/// (status 2, or 64 for launch/paper.sh), before anything is built or run. Before the helpers, a missing
/// value ended `set -u` scripts with bash's "$2: unbound variable".
final class LaunchScriptArgumentTests: XCTestCase {
    func launch(_ script: String, _ args: [String]) throws -> SiftProcess.Output {
        try SiftProcess.run(args, timeout: 60, launcher: SiftProcess.repository.appendingPathComponent("launch/" + script).path)
    }

    func testEveryScriptAnswersHelp() throws {
        let dir = SiftProcess.repository.appendingPathComponent("launch").path
        let scripts = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".sh") && $0 != "lib.sh" }.sorted()
        XCTAssertGreaterThan(scripts.count, 10)
        for script in scripts {
            let out = try launch(script, ["--help"])
            XCTAssertEqual(out.status, 0, "\(script) --help: \(out.stderr)")
            XCTAssertGreaterThan(out.stdout.split(separator: "\n").count, 1, "\(script) --help printed no header")
            XCTAssertFalse(out.stdout.contains("#!/"), "\(script) --help printed the shebang")
        }
    }

    func testAFlagWithoutItsValueIsOneErrorLine() throws {
        let cases: [(String, [String], String, Int32)] = [
            ("experiment.sh", ["--budget"], "--budget", 2), ("stages.sh", ["--models", "mini", "--out"], "--out", 2),
            ("per_sample.sh", ["--steps"], "--steps", 2), ("paper.sh", ["--seeds"], "--seeds", 64),
            ("scaling.sh", ["--ranks"], "--ranks", 2), ("soak.sh", ["--out"], "--out", 2),
            ("cluster_bench.sh", ["--id"], "--id", 2), ("mpirun.sh", ["-np"], "-np", 2),
            ("equal_budget.sh", ["--budget"], "--budget", 64), ("step_costs.sh", ["--model"], "--model", 2),
            ("lamb_compare.sh", ["--configs"], "--configs", 64),
            ("prepare_bench.sh", ["--size-mb"], "--size-mb", 2), ("prepare_scaling.sh", ["--rounds"], "--rounds", 2)
        ]
        for (script, args, flag, status) in cases {
            let out = try launch(script, args)
            XCTAssertEqual(out.status, status, "\(script) \(args): \(out.stderr)")
            XCTAssertEqual(out.stderr, "error: \(flag) needs a value (see launch/\(script) --help)\n", script)
        }
        // launch/lamb_compare.sh: a configuration that is not OPTIMIZER:LR, and a warm start that is not an export,
        // are refused before anything is built or run.
        let config = try launch("lamb_compare.sh", ["--configs", "adamw:2.83e-3 sgd:1e-3"])
        XCTAssertEqual(config.status, 64)
        XCTAssertEqual(
            config.stderr,
            "error: a configuration is OPTIMIZER:LR with OPTIMIZER adamw or lamb, e.g. lamb:4.42e-4 (got 'sgd:1e-3') "
                + "(see launch/lamb_compare.sh --help)\n")
        let warm = try launch("lamb_compare.sh", ["--warm-start", "/nonexistent/model"])
        XCTAssertEqual(warm.status, 2)
        XCTAssertEqual(warm.stderr, "error: --warm-start /nonexistent/model is not a HuggingFace export (no model.safetensors in it)\n")
        // launch/prepare_scaling.sh: a slice larger than the corpus is refused before anything is built or run
        // (it was silently cut to the corpus's first file).
        let work = temporaryDirectory("scaling-work")
        try FileManager.default.createDirectory(atPath: work + "/prepare-bench/corpus-2", withIntermediateDirectories: true)
        try Data(repeating: 0x0A, count: 2_000_001).write(to: URL(fileURLWithPath: work + "/prepare-bench/corpus-2/part-00.txt"))
        try Data("[PAD]\n".utf8).write(to: URL(fileURLWithPath: work + "/prepare-bench/vocab-2.txt"))
        let big = try SiftProcess.run(
            ["--size-mb", "3"], timeout: 60, environment: ["SIFT_WORK": work, "SIFT_BINARY": "/nonexistent/sift"],
            launcher: SiftProcess.repository.appendingPathComponent("launch/prepare_scaling.sh").path)
        XCTAssertEqual(big.status, 2, big.stderr)
        XCTAssertEqual(
            big.stderr, "error: --size-mb 3 is more than the corpus's 2 MB: run launch/prepare_bench.sh --size-mb 3 or more first\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/prepare-bench/slice-3"))
        // launch/per_sample.sh: a stage that is not CORPUS-MODEL-STEP is refused before anything is built or run.
        let stage = try launch("per_sample.sh", ["--stage", "gcide-6000", "--whole"])
        XCTAssertEqual(stage.status, 2)
        XCTAssertEqual(
            stage.stderr,
            "error: a stage is CORPUS-MODEL-STEP, e.g. gcide-mini-6000 (got 'gcide-6000') (see launch/per_sample.sh --help)\n")
        // SIFT_RANKS, the ranks of the experiment scripts' runs, is checked where lib.sh is sourced: before, a bad
        // value failed only inside the first run, its error in that run's train.log.
        let ranks = try SiftProcess.run(
            ["--only", "s1"], timeout: 60, environment: ["SIFT_RANKS": "two", "SIFT_BINARY": "/nonexistent/sift"],
            launcher: SiftProcess.repository.appendingPathComponent("launch/equal_budget.sh").path)
        XCTAssertEqual(ranks.status, 2)
        XCTAssertEqual(ranks.stderr, "error: SIFT_RANKS must be a positive integer (got 'two')\n")
        // launch/stages.sh remakes a warm start by replaying the committed plain run, which needs the same data: a
        // corpus read off the machine (licenses: the installed packages' copyright files) that differs is refused
        // before the replay, not after it has trained 2,500 steps and left the committed log.
        let stages = temporaryDirectory("stages-work"), committed = temporaryDirectory("stages-out")
        try FileManager.default.createDirectory(atPath: stages + "/stages/licenses/dataset", withIntermediateDirectories: true)
        for (file, text) in [
            ("stages/licenses.txt", "text\n"), ("stages/licenses/vocab.txt", "[PAD]\n"),
            ("stages/licenses/dataset/manifest.json", #"{"trainSequences": 10367}"#)
        ] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: stages + "/" + file))
        }
        try Data("sift train: vanilla on 2 rank(s), model L4/H256/A4 (5462784 parameters), 9672 training samples of 128 tokens\n".utf8)
            .write(to: URL(fileURLWithPath: committed + "/licenses-mini-base.log"))
        try Data().write(to: URL(fileURLWithPath: committed + "/licenses-mini-base.jsonl.gz"))
        let replay = try SiftProcess.run(
            ["--warm-starts-only", "--models", "mini", "--corpora", "licenses", "--stages", "2500", "--out", committed],
            timeout: 60, environment: ["SIFT_WORK": stages, "SIFT_BINARY": "/bin/true"],
            launcher: SiftProcess.repository.appendingPathComponent("launch/stages.sh").path)
        XCTAssertEqual(replay.status, 2)
        XCTAssertEqual(
            replay.stderr,
            "error: the licenses dataset here has 10367 training sequences, the committed plain run's 9672 (this machine's "
                + "corpus differs): the warm start licenses-mini-2500 cannot be remade\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stages + "/stages/licenses-mini/stage-2500"))
        let unknown = try launch("stages.sh", ["--model", "mini"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertEqual(unknown.stderr, "error: unknown argument '--model' (see launch/stages.sh --help)\n")
    }
}
