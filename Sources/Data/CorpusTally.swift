import Foundation

/// The counts of a corpus read chunk by chunk, added in chunk order: text bytes, invalid UTF-8, binary files,
/// markup lines and skipped JSON Lines records, with the warnings about single files and records (the first
/// `ChunkTokenizer.keptPlaces` skipped records named by file and line). Shared by `sift prepare`
/// (`DatasetAssembler`) and `sift vocab` (`CorpusWordCounter`), so both report a corpus the same way.
final class CorpusTally {
    let plan: CorpusPlan
    private let warn: (String) -> Void
    /// Warnings about single files and records, off when the corpus is read a second time.
    private let fileWarn: (String) -> Void
    private(set) var bytes = 0
    private(set) var invalidUTF8 = 0
    private(set) var binaryFiles = 0
    private(set) var removedLines = 0
    private(set) var brokenLines = 0
    private(set) var recordsWithoutText = 0
    /// Skipped JSON Lines records named so far.
    private var namedRecords = 0
    // The file being read: bytes, invalid sequences and lines over its chunks so far.
    private var fileBytes = 0, fileInvalid = 0, fileLines = 0
    /// Chunks added.
    private(set) var chunksDone = 0

    /// JSON Lines records skipped.
    var skippedRecords: Int { brokenLines + recordsWithoutText }

    /// `repeated`: the corpus was read before in this run (its file and record warnings were given then).
    init(plan: CorpusPlan, repeated: Bool = false, warn: @escaping (String) -> Void) {
        self.plan = plan
        self.warn = warn
        fileWarn = repeated ? { _ in } : warn
    }

    /// Adds chunk `index`'s counts; chunks must come in order.
    func add(chunk index: Int, _ counts: ChunkCounts) {
        removedLines += counts.removedLines
        recordsWithoutText += counts.recordsWithoutText
        brokenLines += counts.brokenLines
        let chunk = plan.chunks[index]
        let path = plan.files[chunk.file]
        let places = counts.brokenPlaces.map { ($0, true) } + counts.textlessPlaces.map { ($0, false) }
        for (line, broken) in places.sorted(by: { $0.0 < $1.0 }) where namedRecords < ChunkTokenizer.keptPlaces {
            namedRecords += 1
            let problem = broken ? "not a JSON object" : "no string \"\(plan.textField)\" field"
            fileWarn("warning: \(path):\(fileLines + line): \(problem); record skipped")
        }
        fileBytes += counts.bytes
        fileInvalid += counts.invalidUTF8
        fileLines += counts.lines
        chunksDone += 1
        if counts.binary {
            fileWarn("warning: \(path): looks binary (NUL byte in the first 8 KiB); skipped")
            binaryFiles += 1
        } else if chunk.lastOfFile {
            if fileBytes == 0 { fileWarn("warning: \(path): empty file") }
            if fileInvalid > 0 { fileWarn("warning: \(path): replaced \(fileInvalid) invalid UTF-8 sequence(s) with U+FFFD") }
        }
        if chunk.lastOfFile {
            if !counts.binary {
                bytes += fileBytes
                invalidUTF8 += fileInvalid
            }
            fileBytes = 0
            fileInvalid = 0
            fileLines = 0
        }
    }

    /// The closing warning: how many JSON Lines records were skipped, of each kind.
    func finish() {
        guard skippedRecords > 0 else { return }
        let named = skippedRecords > namedRecords ? " (the first \(namedRecords) named above)" : ""
        warn(
            "warning: skipped \(skippedRecords) JSON Lines record(s): \(brokenLines) not a JSON object, "
                + "\(recordsWithoutText) without a string \"\(plan.textField)\" field" + named)
    }
}
