import Foundation
import XCTest

extension XCTestCase {
    /// A fresh directory under the system temporary directory, named after `tag`, removed when the
    /// test ends.
    public func temporaryDirectory(_ tag: String) -> String {
        let d = NSTemporaryDirectory() + "sift-\(tag)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }
}

/// ‖a − b‖ / ‖a‖ over two weight vectors of the same length, in Double.
public func relativeDifference(_ a: [Float], _ b: [Float]) -> Double {
    var diff = 0.0, norm = 0.0
    for i in a.indices {
        diff += Double(a[i] - b[i]) * Double(a[i] - b[i])
        norm += Double(a[i]) * Double(a[i])
    }
    return (diff / max(norm, 1e-30)).squareRoot()
}
