import Bench
import Model
import Training
import XCTest

/// `BenchPlan.memoryProblem`: a bench whose trainer steps would not fit the machine is refused with the
/// model size and the estimate, and one that fits (or builds no trainer) is not.
final class BenchMemoryTests: XCTestCase {
    func plan(_ configs: [String], sections: [String] = ["step"], batch: Int = 32) -> BenchPlan {
        BenchPlan(
            configs: configs, vocabSize: 30522, seqLen: 128, batchSize: batch, selectFraction: 0.75, exitLayers: "1",
            reuse: [true], repeats: 1, sections: sections, threads: [1], quick: false)
    }

    func testTheLargestModelThatDoesNotFitIsNamedWithItsEstimate() throws {
        let gib: UInt64 = 1 << 30
        // BERT-large's parameters, gradients and two moments alone are 16 bytes × 335M ≈ 5 GiB per rank.
        let layout = ParameterLayout(config: BertConfig.named("large", vocabSize: 30522)!)
        XCTAssertGreaterThan(16 * Double(layout.totalCount), 4.9 * Double(gib))
        // At b = 32 per rank a step of it needs about 13.5 GiB: two ranks do not fit 24 GiB, one does.
        let problem = try XCTUnwrap(plan(["tiny", "large"]).memoryProblem(ranks: 2, ranksHere: 2, physicalBytes: 24 * gib))
        XCTAssertTrue(problem.hasPrefix("model size large needs about "), problem)
        XCTAssertTrue(problem.contains("× 2 ranks on this machine"), problem)
        XCTAssertTrue(problem.contains("24.0 GiB"), problem)
        XCTAssertNil(plan(["tiny", "large"]).memoryProblem(ranks: 2, ranksHere: 1, physicalBytes: 24 * gib))
        XCTAssertNil(plan(["tiny", "mini"]).memoryProblem(ranks: 2, ranksHere: 2, physicalBytes: 2 * gib))
    }

    func testOnlyTheSectionsThatBuildTrainersAreChecked() {
        let gib: UInt64 = 1 << 30
        XCTAssertNil(plan(["large"], sections: ["memory", "sgemm", "allreduce"]).memoryProblem(ranks: 2, ranksHere: 2, physicalBytes: gib))
        for section in ["step", "profile", "fidelity"] {
            XCTAssertNotNil(plan(["large"], sections: [section]).memoryProblem(ranks: 2, ranksHere: 2, physicalBytes: gib), section)
        }
    }

    /// The estimate grows with the batch: the same model refused at 4,096 samples per rank fits at 32.
    func testTheBatchIsPartOfTheEstimate() {
        let gib: UInt64 = 1 << 30
        XCTAssertNil(plan(["mini"]).memoryProblem(ranks: 1, ranksHere: 1, physicalBytes: 4 * gib))
        XCTAssertNotNil(plan(["mini"], batch: 4096).memoryProblem(ranks: 1, ranksHere: 1, physicalBytes: 4 * gib))
    }
}
