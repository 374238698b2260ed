import Communication
import Data
import Foundation
import Model
import SiftTestSupport
import Training
import XCTest

/// docs/METRICS.md documents every key the metrics file holds, and the writer writes every key documented:
/// a real run (selection after a sifting delay, fidelity and validation on some steps) against the tables.
final class MetricsSchemaTests: XCTestCase {
    /// The keys of each table of docs/METRICS.md, by the heading above it, and those marked *sometimes*.
    func documentedKeys() throws -> (tables: [String: Set<String>], sometimes: Set<String>) {
        let text = try String(contentsOfFile: SiftProcess.repository.path + "/docs/METRICS.md", encoding: .utf8)
        var tables: [String: Set<String>] = [:], sometimes: Set<String> = []
        var heading = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#") {
                heading = line.trimmingCharacters(in: CharacterSet(charactersIn: "# "))
                continue
            }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count > 2, cells[1].hasPrefix("`"), cells[1].hasSuffix("`") else { continue }
            let key = String(cells[1].dropFirst().dropLast())
            tables[heading, default: []].insert(key)
            if line.contains("*sometimes*") { sometimes.insert(key) }
        }
        return (tables, sometimes)
    }

    func testEveryDocumentedKeyIsWrittenAndNoOther() throws {
        let doc = try documentedKeys()
        let stepKeys = try XCTUnwrap(doc.tables["Step line"]), timesKeys = try XCTUnwrap(doc.tables["`times`"])
        let finalKeys = try XCTUnwrap(doc.tables["Final line"])

        let V = 40
        func samples(_ n: Int) -> InMemorySamples { InMemorySamples.random(count: n, seqLen: 12, vocab: V, every: 3, seed: UInt64(n)) }
        let model = BertForMaskedLM(config: BertConfig.named("tiny", vocabSize: V)!, seed: 1)
        var o = TrainingOptions()
        o.policy = .sift
        o.batchSize = 4
        o.selectFraction = 0.5
        o.steps = 4
        o.siftDelay = 1
        o.warmupSteps = 0
        o.fidelityEvery = 2
        o.evalEvery = 2
        o.evalSamples = nil
        o.checkReplicasEvery = 0
        o.watchdogSeconds = 0
        let dir = temporaryDirectory("metrics")
        o.metricsPath = dir + "/metrics.jsonl"
        _ = try Trainer(
            options: o, model: model, communicator: SingleProcess(), train: samples(30), validation: samples(6),
            vocabHash: "test", output: { _ in }
        ).run()

        let lines = try String(contentsOfFile: o.metricsPath!, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 5, "four step lines and the final line")
        let rows = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        for line in lines { XCTAssertFalse(line.contains(" "), "a metrics line has spaces: \(line)") }
        let steps = rows.dropLast(), final = rows.last!
        XCTAssertEqual(Set(final.keys), finalKeys, "final line against docs/METRICS.md")
        XCTAssertEqual(final["final"] as? Bool, true)
        // A second run whose selection waits for a learned share (`--sift-start-learned`, never reached) logs it.
        var gated = o
        gated.siftDelay = 0
        gated.siftStartLearned = 0.999
        gated.fidelityEvery = 0
        gated.metricsPath = dir + "/gated.jsonl"
        _ = try Trainer(
            options: gated, model: BertForMaskedLM(config: BertConfig.named("tiny", vocabSize: V)!, seed: 1),
            communicator: SingleProcess(), train: samples(30), validation: samples(6), vocabHash: "test",
            reference: UnigramReference(counts: Array(repeating: 1, count: V)), output: { _ in }
        ).run()
        let gatedSteps = try String(contentsOfFile: gated.metricsPath!, encoding: .utf8).split(separator: "\n").dropLast()
            .map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(gatedSteps.count, 4)
        XCTAssertTrue(gatedSteps.allSatisfy { $0["learned_share"] != nil && $0["threshold"] is NSNull })
        XCTAssertFalse(steps.contains { $0["learned_share"] != nil }, "no learned share without --sift-start-learned")
        XCTAssertEqual(
            (steps + gatedSteps).reduce(into: Set<String>()) { $0.formUnion($1.keys) }, stepKeys,
            "step lines against docs/METRICS.md")
        for row in steps {
            XCTAssertTrue(
                stepKeys.subtracting(doc.sometimes).isSubset(of: Set(row.keys)), "a step line lacks an always-present key: \(row.keys)")
            XCTAssertEqual(Set(try XCTUnwrap(row["times"] as? [String: Any]).keys), timesKeys, "times against docs/METRICS.md")
        }
        // The sometimes-keys appear exactly on the steps that measured them, and the sifting delay's step has no threshold.
        XCTAssertEqual(steps.map { $0["val_loss"] != nil }, [false, true, false, false], "the last step's evaluation is the final line")
        XCTAssertEqual(steps.map { $0["fidelity_top_overlap"] != nil }, [false, true, false, true])
        XCTAssertTrue(steps.first!["threshold"] is NSNull)
        XCTAssertFalse(steps.last!["threshold"] is NSNull)
    }
}
