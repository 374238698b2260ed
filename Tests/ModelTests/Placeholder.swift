import XCTest
final class ModelPlaceholderTests: XCTestCase { func testNothing() {} }
