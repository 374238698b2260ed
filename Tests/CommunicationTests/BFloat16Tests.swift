import Communication
import Foundation
import SiftTestSupport
import Training
import XCTest

/// The bfloat16 gradient exchange (`--gradient-exchange bf16`): the rounding against bit patterns worked out
/// by hand, and real 2-rank training runs against the float exchange.
final class BFloat16Tests: XCTestCase {
    func round(_ bits: UInt32) -> UInt16 {
        var f = Float(bitPattern: bits), h: UInt16 = 0
        BFloat16.round(&f, into: &h, count: 1)
        return h
    }

    func testRoundsToNearestTiesToEven() {
        XCTAssertEqual(round(0x3F80_0000), 0x3F80, "1 is exact")
        XCTAssertEqual(round(0x3F80_8000), 0x3F80, "1 + 2^-8 is a tie: to the even 1")
        XCTAssertEqual(round(0x3F81_8000), 0x3F82, "a tie above an odd value rounds up")
        XCTAssertEqual(round(0x3F80_8001), 0x3F81, "just above the tie rounds up")
        XCTAssertEqual(round(0x3F80_7FFF), 0x3F80, "just below the tie rounds down")
        XCTAssertEqual(round(0xBF81_8000), 0xBF82, "the sign does not change the rounding")
        XCTAssertEqual(round(0x7F80_0000), 0x7F80, "+∞ stays +∞")
        XCTAssertEqual(round(0x7F7F_FFFF), 0x7F80, "the largest float rounds past bfloat16's range to +∞")
        let nan = round(0x7F80_0001)
        XCTAssertTrue(nan & 0x7F80 == 0x7F80 && nan & 0x007F != 0, "a NaN stays a NaN (0x\(String(nan, radix: 16)))")
        var h: [UInt16] = [0x3F80, 0xC040, 0x0001], f = [Float](repeating: 0, count: 3)
        BFloat16.widen(&h, into: &f, count: 3)
        XCTAssertEqual(f[0], 1)
        XCTAssertEqual(f[1], -3)
        XCTAssertEqual(f[2].bitPattern, 0x0001_0000, "widening only appends zero bits")
    }

    /// Weights after `steps` SIFT steps on the fixture with the given exchange and rank count.
    func weights(exchange: String, ranks: Int, steps: Int = 4) throws -> [Float] {
        let p = try TrainingFixture.paths()
        let dir = temporaryDirectory("bf16-\(exchange)-\(ranks)")
        let out = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "sift", steps: steps, checkpointDir: dir,
                extra: [
                    "--gradient-exchange", exchange, "--check-replicas-every", "1"
                ]), ranks: ranks)
        XCTAssertEqual(out.status, 0, out.stderr)
        return try TrainingCheckpoint.load(path: try XCTUnwrap(TrainingCheckpoint.list(directory: dir).last).path).parameters.array
    }

    /// Over 2 ranks the bf16 exchange keeps the replicas identical (checked every step) and lands near the float
    /// exchange, but not on it; on 1 rank nothing is exchanged, so nothing is rounded.
    func testTwoRanksStayReplicatedAndNearTheFloatExchange() throws {
        let fp32 = try weights(exchange: "fp32", ranks: 2), bf16 = try weights(exchange: "bf16", ranks: 2)
        let d = relativeDifference(fp32, bf16)
        XCTAssertGreaterThan(d, 0, "the bf16 exchange rounds the gradients")
        XCTAssertLessThan(d, 1e-2, "4 steps of bf16-rounded gradients stay near the float run")
        assertBitIdentical(try weights(exchange: "fp32", ranks: 1), try weights(exchange: "bf16", ranks: 1), "1 rank exchanges nothing")
    }
}
