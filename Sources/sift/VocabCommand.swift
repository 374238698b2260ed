import ArgumentParser
import Core
import Data
import Foundation

/// `sift vocab`: learns a WordPiece vocab.txt from a corpus (BPE-style pair merges, see
/// `VocabularyBuilder`).
struct VocabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vocab",
        abstract: "Learn a WordPiece vocabulary (vocab.txt) from a text corpus.")

    @Option(help: "Corpus files or directories (repeatable; directories are read recursively).")
    var corpus: [String] = ["/usr/share/doc/python3.11/html/_sources"]
    @Option(help: "Vocabulary size, special tokens included.") var size: Int
    @Option(help: "Output vocab.txt path (written atomically).") var out: String
    @Flag(help: "Keep case and accents.") var cased = false

    func run() throws {
        do {
            let start = Date()
            var reader = try CorpusReader(paths: corpus, warn: { printError($0) })
            var builder = VocabularyBuilder(cased: cased)
            let basic = BasicTokenizer(cased: cased)
            try reader.read { event in
                if case .text(let text) = event { builder.count(text: text, using: basic) }
            }
            if builder.wordCounts.isEmpty { throw DataError.noUsableText(corpus: corpus) }
            let tokens = try builder.learn(size: size)
            let bytes = [UInt8]((tokens.joined(separator: "\n") + "\n").utf8)
            try DurableFile.write(bytes, to: out)
            if tokens.count < size {
                printError("warning: only \(tokens.count) tokens could be learned (no pair occurs twice any more)")
            }
            let seconds = Date().timeIntervalSince(start)
            printError("wrote \(tokens.count) tokens to \(out)" + String(format: " (%d distinct words, %.1f MB in %.1f s)",
                            builder.wordCounts.count, Double(reader.bytesRead) / 1e6, seconds))
        } catch let error as DataError {
            // DataError's description is the one-line message; no usage dump for data problems.
            throw CommandFailure(error)
        }
    }
}
