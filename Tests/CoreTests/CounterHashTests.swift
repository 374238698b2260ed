import Core
import XCTest

/// Fixed values recorded from the four copies `Core` replaced (checked to agree bit for bit on
/// 200,000 random inputs each before they were deleted): any change here changes data order, masks,
/// dropout, initialisation and selection sampling of every run.
final class CounterHashTests: XCTestCase {
    func testMixIsSplitMix64() {
        // SplitMix64's first output for seed 0 is the published 0xE220A8397B1DCDAF.
        XCTAssertEqual(CounterHash.mix(0), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(CounterHash.mix(1), 0x910A_2DEC_8902_5CC1)
    }

    func testKeyedFunctionsKeepTheirValues() {
        XCTAssertEqual(CounterHash.bits(1, 2, 3, 4), 0xD55C_CD4A_EB3C_CAFB)
        XCTAssertEqual(CounterHash.hash(1, 2, 3), 0xB0A5_59F4_B96A_7C25)
        XCTAssertEqual(CounterHash.hash(1, 2, 3, 4, 5), 0x90BB_69B7_1665_51DE)
        XCTAssertEqual(CounterHash.key(1, 2, 3), 0xCD8D_7059_9191_4EA1)
        XCTAssertEqual(CounterHash.uniform(key: 42, index: 7).bitPattern, 1_064_340_142)
        XCTAssertEqual(CounterHash.uniform(1, 2, 3, 4).bitPattern, 4_605_682_245_399_570_330)
        XCTAssertEqual(CounterHash.unit(0xDEAD_BEEF_0000_0000).bitPattern, 4_606_010_029_594_640_384)
    }

    func testHashAndBitsAreDifferentFunctions() {
        XCTAssertNotEqual(CounterHash.hash(1, 2, 3, 4), CounterHash.bits(1, 2, 3, 4))
    }

    func testUniformRanges() {
        for i in 0..<10_000 as Range<UInt64> {
            let f = CounterHash.uniform(key: 9, index: i)
            XCTAssertTrue(f >= 0 && f < 1)
            let d = CounterHash.uniform(i, 1, 2, 3)
            XCTAssertTrue(d > 0 && d < 1)
            XCTAssertTrue(CounterHash.unit(CounterHash.mix(i)) < 1)
        }
        XCTAssertEqual(CounterHash.unit(.max), 1 - 0x1p-53)
    }

    func testBoxMullerKeepsItsValues() {
        // The two initialisations' uniforms (interop's fresh tensors and BertForMaskedLM's).
        let r = CounterHash.mix(5 &+ 3 &* 2), s = CounterHash.mix(5 &+ 3 &* 2 &+ 1)
        XCTAssertEqual(
            BoxMuller.normal((Double(r >> 11) + 1) * 0x1p-53, Double(s >> 11) * 0x1p-53).bitPattern,
            13_832_057_794_011_177_168)
        let m = BoxMuller.normal(
            max(Double(CounterHash.mix(5 ^ 6) >> 11) * 0x1p-53, 0x1p-60),
            Double(CounterHash.mix(5 ^ 7) >> 11) * 0x1p-53)
        XCTAssertEqual(m.bitPattern, 13_833_946_306_817_513_408)
        XCTAssertEqual(BoxMuller.normal(1, 0), 0)
        XCTAssertEqual(BoxMuller.normal(0x1p-2, 0), (2 * 2 * 0.6931471805599453).squareRoot(), accuracy: 1e-15)
    }
}
