import ArgumentParser
import Data
import Foundation

/// `sift prepare`: packs a tokenized corpus into fixed-length sharded MLM sequences.
struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Tokenize a corpus into packed [CLS] … [SEP] sequences in binary shards with a manifest.",
        discussion: """
        If --out already holds a dataset prepared with the same settings (seq-len, vocab, casing, seed, \
        validation fraction, shard size) it is rebuilt and replaced atomically; with different settings, \
        or if --out is a non-empty directory that is not a dataset, the command refuses and changes nothing.
        """)

    @Option(help: "Corpus files or directories (repeatable).")
    var corpus: [String] = ["/usr/share/doc/python3.11/html/_sources"]
    @Option(help: "BERT vocab.txt.") var vocab: String
    @Flag(help: "Keep case and accents.") var cased = false
    @Option(name: .customLong("seq-len"), help: "Tokens per sequence including [CLS]/[SEP] (8...512).") var seqLen = 128
    @Option(help: "Output dataset directory.") var out: String
    @Option(name: .customLong("validation-fraction"), help: "Fraction of documents held out.") var validationFraction = 0.01
    @Option(help: "Seed of the validation split.") var seed: UInt64 = 0
    @Option(name: .customLong("shard-sequences"), help: "Sequences per shard file.") var shardSequences = 65536
    @Option(help: ArgumentHelp("Corpus format: auto, text, rst or jsonl.", discussion: """
        rst removes reStructuredText markup (section adornments, table borders, directive and comment \
        markers, link targets, inline roles) and keeps prose and code; jsonl reads one document per line \
        from the string field "text"; auto picks rst when most files end in .rst or .rst.txt (Python's \
        documentation sources), jsonl when most end in .jsonl, else text.
        """))
    var format: String = "auto"

    func validate() throws {
        if format != "auto" && CorpusFormat(rawValue: format) == nil {
            throw ValidationError("unknown --format '\(format)' (expected auto, text, rst or jsonl)")
        }
    }

    func run() throws {
        do {
            let start = Date()
            let options = DatasetPreparer.Options(
                corpus: corpus, vocabPath: vocab, cased: cased, seqLen: seqLen, outDirectory: out,
                validationFraction: validationFraction, seed: seed, sequencesPerShard: shardSequences,
                format: CorpusFormat(rawValue: format))
            let m = try DatasetPreparer.prepare(options, warn: { printError($0) })
            let seconds = Date().timeIntervalSince(start)
            print(out + String(format: ": %d documents (%d validation), %d tokens, %d train + %d validation sequences of %d; "
                               + "%.1f MB in %.2f s (%.1f MB/s)",
                         m.documents, m.validationDocuments, m.tokens, m.trainSequences, m.validationSequences,
                         m.seqLen, Double(m.corpusBytes) / 1e6, seconds, Double(m.corpusBytes) / 1e6 / seconds))
            print(String(format: "  format %@, %d markup lines removed; tokens in runs of ≥ 4 identical: %.2f%% (train), "
                         + "%.2f%% (validation)", m.corpusFormat ?? "text", m.markupLinesRemoved ?? 0,
                         100 * (m.trainRepeatRunShare ?? 0), 100 * (m.validationRepeatRunShare ?? 0)))
        } catch let error as DataError {
            // DataError's description is the one-line message; no usage dump for data problems.
            throw CommandFailure(error)
        }
    }
}
