import Kernels
import XCTest

/// Deterministic test data (SplitMix64-based), independent of the code under test's RNG use.
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Float { Float(next() >> 40) / 16_777_216 }
    mutating func symmetric(_ scale: Float = 1) -> Float { (uniform() * 2 - 1) * scale }
    mutating func array(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in symmetric(scale) } }
}

/// Compares an analytic gradient with central finite differences of a Double-valued loss.
func assertGradient(
    _ name: String, _ input: inout [Float], analytic: [Float], eps: Float = 1e-2,
    rtol: Double = 2e-2, atol: Double = 2e-3, indices: [Int]? = nil,
    loss: ([Float]) -> Double, file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(input.count, analytic.count, "\(name): gradient size", file: file, line: line)
    var failures = 0
    for i in indices ?? Array(input.indices) {
        let saved = input[i]
        input[i] = saved + eps
        let plus = loss(input)
        input[i] = saved - eps
        let minus = loss(input)
        input[i] = saved
        let numeric = (plus - minus) / (2 * Double(eps))
        let a = Double(analytic[i])
        if abs(a - numeric) > atol + rtol * max(abs(a), abs(numeric)) {
            failures += 1
            if failures <= 5 {
                XCTFail("\(name)[\(i)]: analytic \(a) vs numeric \(numeric)", file: file, line: line)
            }
        }
    }
}

/// Σ r_i · y_i in Double: a random projection of outputs to a scalar loss.
func project(_ y: [Float], _ r: [Float]) -> Double {
    var s = 0.0
    for i in y.indices { s += Double(y[i]) * Double(r[i]) }
    return s
}

extension Array where Element == Float {
    /// Calls `body` with a mutable pointer to the elements (test convenience).
    mutating func ptr<R>(_ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }
}
