import Core
import Foundation
import XCTest

final class DurableFileTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "sift-core-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testWriteReplacesTheFileAndLeavesNoTemporary() throws {
        let path = dir + "/out.txt"
        try DurableFile.write(Array("old".utf8), to: path)
        try DurableFile.write(Array("new contents".utf8), to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new contents")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.txt"])
    }

    func testFailingBodyLeavesTheOldFile() throws {
        struct Stop: Error {}
        let path = dir + "/keep.txt"
        try DurableFile.write(Array("old".utf8), to: path)
        XCTAssertThrowsError(
            try DurableFile.write(to: path) { w in
                try w.write(Array("partial".utf8))
                throw Stop()
            })
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["keep.txt"])
    }

    func testNamedTemporaryIsRenamed() throws {
        let path = dir + "/final.bin", temp = dir + "/.tmp-final.bin"
        try DurableFile.write(to: path, temporary: temp) { try $0.write([1, 2, 3]) }
        XCTAssertEqual(FileManager.default.contents(atPath: path), Data([1, 2, 3]))
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp))
    }

    func testMissingDirectoryIsReportedWithThePath() {
        let path = dir + "/no/such/dir/file"
        XCTAssertThrowsError(try DurableFile.write([1], to: path)) { error in
            XCTAssertTrue("\(error)".contains(dir + "/no/such/dir"), "\(error)")
            XCTAssertTrue("\(error)".contains("cannot create"), "\(error)")
        }
    }
}
