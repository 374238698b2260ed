import XCTest

/// Where two weight (or moment) vectors differ, bit for bit: the count of differing entries, the first
/// differing index and the largest absolute difference; nil when they are identical.
public func bitDifference(_ a: [Float], _ b: [Float]) -> String? {
    guard a.count == b.count else { return "lengths differ: \(a.count) against \(b.count)" }
    var count = 0, first = -1
    var largest: Float = 0, at = -1
    for i in a.indices where a[i].bitPattern != b[i].bitPattern {
        count += 1
        if first < 0 { first = i }
        let d = abs(a[i] - b[i])
        if !(d <= largest) {
            largest = d
            at = i
        }
    }
    guard count > 0 else { return nil }
    return "\(count) of \(a.count) entries differ; first at \(first) (\(a[first]) against \(b[first])); "
        + "largest difference \(largest) at \(at)"
}

/// Asserts that `a` and `b` are bit-identical, reporting where they differ instead of printing both arrays.
public func assertBitIdentical(
    _ a: [Float], _ b: [Float], _ message: @autoclosure () -> String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    if let difference = bitDifference(a, b) { XCTFail("\(message()): \(difference)", file: file, line: line) }
}
