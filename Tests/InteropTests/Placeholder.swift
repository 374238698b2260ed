import XCTest
final class InteropPlaceholderTests: XCTestCase { func testNothing() {} }
