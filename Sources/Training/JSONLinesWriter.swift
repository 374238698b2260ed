import Foundation

/// Appends JSON Lines records to a file, one flushed line per record (rank 0 only).
final class JSONLinesWriter {
    private let handle: FileHandle

    /// Opens `path` for appending (`append`) or as a new file.
    init(path: String, append: Bool) throws {
        let fm = FileManager.default
        if !append || !fm.fileExists(atPath: path) {
            guard fm.createFile(atPath: path, contents: nil) else {
                throw TrainingError(message: "cannot create metrics file \(path)")
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw TrainingError(message: "cannot open metrics file \(path) for writing")
        }
        h.seekToEndOfFile()
        handle = h
    }

    func write(_ line: String) {
        handle.write((line + "\n").data(using: .utf8)!)
    }
}
