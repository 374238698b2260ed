import XCTest

/// deep12 (L 12, H 128) through the real trainer under mpirun: a SIFT run at exit layer 1 selects the
/// same samples and trains the same weights at 1, 2 and 3 ranks, as the named sizes do.
extension DistributedTrainingTests {
    func testDeep12SiftIsIndependentOfRankCount() throws {
        try runPolicyAtOneTwoThreeRanks("sift", extra: ["--config", "deep12"])
    }
}
