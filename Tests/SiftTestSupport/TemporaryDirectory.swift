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
