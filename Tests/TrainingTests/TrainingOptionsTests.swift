import Data
import Selection
import Training
import XCTest

/// What `TrainingOptions` decides once for every module: the pool size, the sift-start gate and the
/// fingerprint a resumed run must match.
final class TrainingOptionsTests: XCTestCase {
    func testFingerprintNamesTheRule() {
        var o = TrainingOptions()
        o.rule = .relative
        o.beta = 2
        XCTAssertTrue(o.fingerprint.contains("rule=relative"))
        XCTAssertTrue(o.fingerprint.contains("beta=2.0"))
        o.policy = .proportional
        XCTAssertTrue(o.fingerprint.contains("rule=proportional"))
        o.policy = .vanilla
        XCTAssertFalse(o.fingerprint.contains("rule="))
    }

    /// AdamW, the default, leaves the fingerprint as it was before `--optimizer`, so older checkpoints
    /// resume; LAMB adds a field, and a difference names the flag with both values.
    func testFingerprintNamesLambAndLeavesAdamWAsBefore() {
        var o = TrainingOptions()
        XCTAssertEqual(o.optimizer, .adamw)
        let adamw = o.fingerprint
        XCTAssertFalse(adamw.contains("optimizer"), adamw)
        XCTAssertTrue(adamw.hasSuffix(" seed=1234"), adamw)
        o.optimizer = .lamb
        XCTAssertEqual(o.fingerprint, adamw + " optimizer=lamb")
        XCTAssertEqual(o.fingerprintDifference(from: adamw), "--optimizer: checkpoint adamw, now lamb")
        o.optimizer = .adamw
        XCTAssertEqual(o.fingerprintDifference(from: adamw + " optimizer=lamb"), "--optimizer: checkpoint lamb, now adamw")
    }

    func testThePoolIsBOverRhoRoundedForASelectingPolicyAndBForVanilla() {
        var o = TrainingOptions()
        o.batchSize = 32
        o.selectFraction = 0.75
        XCTAssertEqual(o.poolSize, 43)  // 42.67 rounded
        o.selectFraction = 0.3
        XCTAssertEqual(o.poolSize, 107)  // 106.67
        for policy in SelectionPolicy.allCases {
            o.policy = policy
            XCTAssertEqual(o.poolSize, policy == .vanilla ? 32 : 107, "\(policy)")
            XCTAssertEqual(o.poolSize, policy.poolSize(batchSize: 32, selectFraction: 0.3))
        }
    }

    func testTheSiftStartGateWaitsOnlyForASelectingPolicyWithAShare() {
        for policy in SelectionPolicy.allCases {
            for learned in [0, 0.2] {
                var o = TrainingOptions()
                o.policy = policy
                o.siftStartLearned = learned
                o.siftDelay = 3
                XCTAssertEqual(o.startsByLearnedShare, policy != .vanilla && learned > 0, "\(policy) \(learned)")
                XCTAssertEqual(SiftStart(options: o).isPending, o.startsByLearnedShare, "\(policy) \(learned)")
                XCTAssertEqual(o.fingerprint.contains("sift-start-learned"), o.startsByLearnedShare)
            }
        }
    }

    /// Whole-word masking is part of what a resumed run must keep; token masking adds nothing, so checkpoints
    /// written before `--mask` existed still match.
    func testMaskModeIsInTheFingerprintOnlyWhenWords() {
        var o = TrainingOptions()
        let tokens = o.fingerprint
        XCTAssertFalse(tokens.contains("mask"))
        o.masking = .words
        XCTAssertTrue(o.fingerprint.hasSuffix(" mask=words"))
        XCTAssertEqual(o.fingerprintDifference(from: tokens), "--mask: checkpoint tokens, now words")
    }
}
