import Core
import XCTest

final class CPUFeaturesTests: XCTestCase {
    /// A Haswell-class flags line (shortened from a real AMD EPYC /proc/cpuinfo) has every feature;
    /// a Sandy Bridge one (AVX but no AVX2, FMA, BMI, MOVBE) misses exactly those, in the list's order.
    func testMissingFeaturesAreReadFromTheFlagsLine() {
        let epyc = """
            processor\t: 0
            model name\t: AMD EPYC 7B13
            flags\t\t: fpu vme sse sse2 ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand bmi1 avx2 smep bmi2 erms
            bugs\t\t: sysret_ss_attrs

            processor\t: 1
            flags\t\t: fpu
            """
        XCTAssertEqual(CPUFeatures.missing(CPUFeatures.haswell, cpuinfo: epyc), [])
        let sandyBridge = "flags\t\t: fpu sse sse2 ssse3 cx16 sse4_1 sse4_2 popcnt aes xsave avx f16c\n"
        XCTAssertEqual(CPUFeatures.missing(CPUFeatures.haswell, cpuinfo: sandyBridge), ["avx2", "fma", "bmi1", "bmi2", "movbe"])
        // A flag that is a prefix of another ("avx" of "avx2") is not mistaken for it.
        XCTAssertEqual(CPUFeatures.missing(["avx"], cpuinfo: "flags : avx2 avx512f\n"), ["avx"])
        // No flags line (an arm64 /proc/cpuinfo says "Features"): nothing can be confirmed.
        XCTAssertEqual(CPUFeatures.missing(["avx2"], cpuinfo: "Features\t: fp asimd\n"), ["avx2"])
        XCTAssertNil(CPUFeatures.refusal(target: "haswell", missing: []))
        let line = CPUFeatures.refusal(target: "haswell", missing: ["avx2", "fma"])!
        XCTAssertFalse(line.contains("\n"))
        XCTAssertTrue(line.contains("lacks avx2, fma") && line.contains("SIFT_TARGET_CPU=generic"), line)
    }
}
