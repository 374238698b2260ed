import ArgumentParser
import Data
import Foundation

/// `sift tokenize`: prints the WordPiece ids (or pieces) of each input line as a JSON array.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenize text lines with a BERT vocab.txt (ids identical to HuggingFace BertTokenizer).")

    @Option(help: "BERT vocab.txt (one token per line).") var vocab: String
    @Flag(help: "Keep case and accents (cased vocabulary).") var cased = false
    @Flag(help: "Print the WordPiece strings instead of ids.") var tokens = false
    @Argument(help: "Text file to tokenize (default: standard input).") var textFile: String?

    func run() throws {
        do {
            let vocabulary = try Vocabulary(path: vocab)
            let tokenizer = BertTokenizer(vocabulary: vocabulary, cased: cased)
            let handle: FileHandle
            if let path = textFile {
                guard let h = FileHandle(forReadingAtPath: path) else { throw DataError.fileNotFound(path: path) }
                handle = h
            } else {
                handle = FileHandle.standardInput
            }
            var pending = Data()
            func emit(_ lineBytes: Data) {
                let line = String(decoding: lineBytes, as: UTF8.self)
                let json: String
                if tokens {
                    let pieces = tokenizer.tokenize(line)
                    let encoded = (try? JSONEncoder().encode(pieces)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
                    json = encoded
                } else {
                    json = "[" + tokenizer.encode(line).map(String.init).joined(separator: ",") + "]"
                }
                print(json)
            }
            while true {
                let chunk = handle.readData(ofLength: 1 << 16)
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let nl = pending.firstIndex(of: 0x0A) {
                    emit(pending[pending.startIndex..<nl])
                    pending = Data(pending[(nl + 1)...])
                }
            }
            if !pending.isEmpty { emit(pending) }
        } catch let error as DataError {
            // DataError's description is the one-line message; no usage dump for data problems.
            throw CommandFailure(error)
        }
    }
}
