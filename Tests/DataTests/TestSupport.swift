import Data
import Foundation

/// Fresh temporary directory for one test.
func makeTempDirectory(_ name: String = "sift-data-test") -> String {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(name)-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func writeFile(_ path: String, _ text: String) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
}

func writeBytes(_ path: String, _ bytes: [UInt8]) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
}

/// The HuggingFace reference vocabulary written to a temp vocab.txt.
func referenceVocabularyPath() -> String {
    let dir = makeTempDirectory("vocab")
    let path = (dir as NSString).appendingPathComponent("vocab.txt")
    writeFile(path, HFReference.vocabTokens.joined(separator: "\n") + "\n")
    return path
}
