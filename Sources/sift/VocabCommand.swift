import ArgumentParser
import Core
import Data
import Foundation

/// `sift vocab`: learns a WordPiece vocab.txt from a corpus (BPE-style pair merges, see
/// `VocabularyBuilder`), counting its words on every core (`CorpusWordCounter`).
struct VocabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vocab",
        abstract: "Learn a WordPiece vocabulary (vocab.txt) from a text corpus.",
        discussion: """
            Reads the corpus as sift prepare does (directories, .gz and .zst, JSON Lines) and counts its words on \
            every core (--threads); the vocabulary is the same whatever the number of threads.
            """)

    @Option(
        help: ArgumentHelp(
            "Corpus files or directories (repeatable).",
            discussion: """
                As for sift prepare: a directory stands for every regular file under it, recursively, sorted by the \
                bytes of their paths, hidden names skipped; .gz and .zst files are decompressed as they are read.
                """))
    var corpus: [String] = ["/usr/share/doc/python3.11/html/_sources"]
    @Option(help: "Vocabulary size, special tokens included.") var size: Int
    @Option(help: "Output vocab.txt path (written atomically).") var out: String
    @Flag(help: "Keep case and accents.") var cased = false
    @Option(
        help: ArgumentHelp(
            "Corpus format: auto, text, rst or jsonl.",
            discussion: """
                auto reads JSON Lines when most files end in .jsonl (a .gz or .zst suffix is looked through), else \
                text: reStructuredText is counted as it stands unless rst is given.
                """))
    var format: String = "auto"
    @Option(name: .customLong("text-field"), help: "JSON Lines field holding each record's text.")
    var textField = CorpusFilter.defaultTextField
    @Option(help: "Worker threads counting words (default: the cores available to the process).")
    var threads: Int?
    @Option(
        name: .customLong("max-words"),
        help: ArgumentHelp(
            "Most distinct words held while counting, in words; the default table takes about 200 MB.",
            discussion: """
                Bounds memory on large corpora. When the table outgrows it, its rarest words are dropped until at \
                most half of it is left (those seen fewer than t times so far, t ≥ 2 the smallest count that leaves \
                that few); a dropped word that comes back starts again from 0. The summary says how many words were \
                dropped; with none dropped, the counts are exact.
                """))
    var maxWords = VocabularyBuilder.defaultMaxDistinctWords

    func validate() throws {
        if format != "auto" && CorpusFormat(rawValue: format) == nil {
            throw ValidationError("unknown --format '\(format)' (expected auto, text, rst or jsonl)")
        }
        if textField.isEmpty { throw ValidationError("--text-field must name a field (got an empty name)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads))") }
        if maxWords < 2 { throw ValidationError("--max-words must be at least 2 (got \(maxWords))") }
    }

    func run() throws {
        do {
            let start = Date()
            let options = CorpusWordCounter.Options(
                corpus: corpus, format: CorpusFormat(rawValue: format), textField: textField, cased: cased,
                threads: threads ?? AvailableCores.perRank(localRanks: 1), maxDistinctWords: maxWords)
            let progress = CorpusProgressLine(enabled: true, start: start, label: "vocab")
            let report = try CorpusWordCounter.count(options, warn: { printError($0) }, progress: progress.update)
            progress.finish()
            let builder = report.builder
            if builder.wordCounts.isEmpty { throw DataError.noUsableText(corpus: corpus) }
            let tokens = try builder.learn(size: size)
            let bytes = [UInt8]((tokens.joined(separator: "\n") + "\n").utf8)
            try DurableFile.write(bytes, to: out)
            if tokens.count < size {
                printError("warning: only \(tokens.count) tokens could be learned (no pair occurs twice any more)")
            }
            let seconds = Date().timeIntervalSince(start)
            let mb = Double(report.bytes) / 1e6
            printError(
                "wrote \(tokens.count) tokens to \(out)"
                    + String(
                        format: " (%d distinct words, %.1f MB in %.1f s)",
                        builder.wordCounts.count, mb, seconds))
            var read = String(
                format: "  read %d files (%.1f MB, %d chunks, format %@) on %d thread(s) at %.1f MB/s",
                report.files, mb, report.chunks, report.format.rawValue, options.threads, mb / max(seconds, 1e-9))
            read += "; skipped \(report.skippedBinaryFiles) binary file(s), \(report.skippedRecords) JSON Lines record(s)"
            read +=
                builder.prunes == 0
                ? "; counts exact (no pruning)"
                : "; pruned \(builder.prunes) time(s), \(builder.prunedWords) rare word(s) dropped (seen < \(builder.pruneThreshold) times)"
            printError(read)
        } catch let error as DataError {
            // DataError's description is the one-line message; no usage dump for data problems.
            throw CommandFailure(error)
        }
    }
}
