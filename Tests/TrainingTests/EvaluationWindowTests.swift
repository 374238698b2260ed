import Training
import XCTest

/// `--eval-dense` windows: parsing, refusal of malformed text, and the steps the loop evaluates.
final class EvaluationWindowTests: XCTestCase {
    func testParsesAndRefuses() throws {
        XCTAssertEqual(try EvaluationWindow.parse("6500-8000:25").get(), EvaluationWindow(from: 6500, to: 8000, every: 25))
        for bad in ["", "6500-8000", "8000-6500:25", "0-10:5", "1-10:0", "a-b:c", "1-2-3:4", "1-10:5:6"] {
            guard case .failure(let e) = EvaluationWindow.parse(bad) else { return XCTFail("'\(bad)' was accepted") }
            XCTAssertTrue(e.message.contains("'\(bad)'"), e.message)
        }
    }

    /// The evaluated steps are the union of the `--eval-every` grid and each window's grid from its start.
    func testEvaluatedStepsAreTheGridAndTheWindows() {
        var o = TrainingOptions()
        o.evalEvery = 100
        o.evalWindows = [EvaluationWindow(from: 130, to: 210, every: 40), EvaluationWindow(from: 395, to: 400, every: 1)]
        let evaluated = (1...450).filter { o.evaluates(atStep: $0) }
        XCTAssertEqual(evaluated, [100, 130, 170, 200, 210, 300, 395, 396, 397, 398, 399, 400])
        o.evalEvery = 0
        o.evalWindows = []
        XCTAssertFalse((1...450).contains { o.evaluates(atStep: $0) })
    }
}
