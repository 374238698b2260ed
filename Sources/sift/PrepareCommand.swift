import ArgumentParser
import Communication
import Core
import Data
import Foundation

/// `sift prepare`: packs a tokenized corpus into fixed-length sharded MLM sequences, on every core and,
/// under mpirun, on every rank.
struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Tokenize a corpus into packed [CLS] … [SEP] sequences in binary shards with a manifest.",
        discussion: """
            If --out already holds a dataset prepared with the same settings (seq-len, vocab, casing, seed, \
            validation fraction, shard size) it is rebuilt and replaced atomically; with different settings, \
            or if --out is a non-empty directory that is not a dataset, the command refuses and changes nothing.

            Runs on every core (--threads) and, started by mpirun, on every rank: the corpus is cut into \
            chunks (files, and line-aligned 4 MiB byte ranges of large text and JSON Lines files), rank 0 deals \
            them out in order to whichever thread or rank is free, and writes the shards and the manifest. The dataset is the same, \
            byte for byte, whatever the number of threads and ranks. Under mpirun every rank must be able to \
            read the corpus at the same paths; only rank 0 writes --out.
            """)

    @Option(
        help: ArgumentHelp(
            "Corpus files or directories (repeatable).",
            discussion: """
                Read in the order given; a directory stands for every regular file under it, recursively, sorted by \
                the bytes of their paths, hidden names (starting with '.') skipped. Files ending in .gz or .zst are \
                decompressed as they are read (each is one unit of work: a thread or rank reads it whole).
                """))
    var corpus: [String] = ["/usr/share/doc/python3.11/html/_sources"]
    @Option(help: "BERT vocab.txt.") var vocab: String
    @Flag(help: "Keep case and accents.") var cased = false
    @Option(name: .customLong("seq-len"), help: "Tokens per sequence including [CLS]/[SEP] (8...512).") var seqLen = 128
    @Option(help: "Output dataset directory.") var out: String
    @Option(name: .customLong("validation-fraction"), help: "Fraction of documents held out.") var validationFraction = 0.01
    @Option(help: "Seed of the validation split.") var seed: UInt64 = 0
    @Option(name: .customLong("shard-sequences"), help: "Sequences per shard file.") var shardSequences = 65536
    @Option(
        help: ArgumentHelp(
            "Corpus format: auto, text, rst or jsonl.",
            discussion: """
                rst removes reStructuredText markup (section adornments, table borders, directive and comment \
                markers, link targets, inline roles) and keeps prose and code; jsonl reads one document per line \
                from the string field "text"; auto picks rst when most files end in .rst or .rst.txt (Python's \
                documentation sources), jsonl when most end in .jsonl, else text (a .gz or .zst suffix is looked \
                through).
                """))
    var format: String = "auto"
    @Option(
        name: .customLong("text-field"),
        help: ArgumentHelp(
            "JSON Lines field holding each record's text.",
            discussion: """
                A top-level string field. A line that is not a JSON object, or a record without this field as a \
                string, is skipped: the first 20 are named by file and line, all are counted in the summary and in \
                the manifest (skippedRecords).
                """))
    var textField = CorpusFilter.defaultTextField
    @Option(
        help: ArgumentHelp(
            "Worker threads tokenizing in each process (default: the cores available to it).",
            discussion: """
                Threads, at least 1. The default is the number of cores the process may run on (its CPU affinity); \
                under mpirun without core binding, the node's cores shared evenly among the ranks on it.
                """))
    var threads: Int?
    /// For the tests of the hand-out of chunks: a rank made slow, and its wait before each chunk in seconds.
    @Option(help: .hidden) var debugSlowRank: Int?
    @Option(help: .hidden) var debugChunkDelay: Double = 0
    @Option(help: .hidden) var debugChunkBytes: Int = CorpusPlan.defaultChunkBytes

    func validate() throws {
        if format != "auto" && CorpusFormat(rawValue: format) == nil {
            throw ValidationError("unknown --format '\(format)' (expected auto, text, rst or jsonl)")
        }
        if textField.isEmpty { throw ValidationError("--text-field must name a field (got an empty name)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads))") }
    }

    /// Whether this process was started by mpirun (or another MPI launcher) as one rank of several.
    static var launchedAsRank: Bool {
        let env = ProcessInfo.processInfo.environment
        if let size = env["OMPI_COMM_WORLD_SIZE"].flatMap({ Int($0) }) { return size > 1 }
        if let size = env["PMI_SIZE"].flatMap({ Int($0) }) { return size > 1 }
        return false
    }

    func run() throws {
        let start = Date()
        let localRanks = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) } ?? 1
        var options = DatasetPreparer.Options(
            corpus: corpus, vocabPath: vocab, cased: cased, seqLen: seqLen, outDirectory: out,
            validationFraction: validationFraction, seed: seed, sequencesPerShard: shardSequences,
            format: CorpusFormat(rawValue: format), textField: textField,
            threads: threads ?? AvailableCores.perRank(localRanks: localRanks), chunkBytes: debugChunkBytes)
        options.slowRank = debugSlowRank.map { (rank: $0, secondsPerChunk: debugChunkDelay) }
        if !Self.launchedAsRank {
            do {
                let job = try DatasetPreparer.setUp(options)
                let progress = CorpusProgressLine(enabled: true, start: start)
                let report = try DatasetPreparer.run(job, ranks: nil, warn: { printError($0) }, progress: progress.update)!
                progress.finish()
                summary(report, seconds: Date().timeIntervalSince(start)).forEach { print($0) }
            } catch let error as DataError {
                // DataError's description is the one-line message; no usage dump for data problems.
                throw CommandFailure(error)
            }
            return
        }
        let job = try RankedJob.start()
        let comm = job.comm
        let prepared = try job.setUp { try DatasetPreparer.setUp(options, planning: comm.isRoot) }
        let progress = CorpusProgressLine(enabled: comm.isRoot, start: start)
        let report = try job.run(shared: { $0 is DataError ? exitStatus(for: $0).rawValue : nil }) {
            try DatasetPreparer.run(prepared, ranks: comm, warn: { printError($0) }, progress: progress.update)
        }
        progress.finish()
        if let report { summary(report, seconds: Date().timeIntervalSince(start)).forEach(job.say) }
        comm.finalize()
    }

    /// The closing lines: what was read, skipped and written, at what rate.
    func summary(_ r: DatasetPreparer.Report, seconds: Double) -> [String] {
        let m = r.manifest
        let mb = Double(m.corpusBytes) / 1e6
        return [
            out
                + String(
                    format: ": %d documents (%d validation), %d tokens, %d train + %d validation sequences of %d; "
                        + "%.1f MB in %.2f s (%.1f MB/s)",
                    m.documents, m.validationDocuments, m.tokens, m.trainSequences, m.validationSequences,
                    m.seqLen, mb, seconds, mb / seconds),
            String(
                format: "  format %@, %d markup lines removed; tokens in runs of ≥ 4 identical: %.2f%% (train), "
                    + "%.2f%% (validation)", m.corpusFormat ?? "text", m.markupLinesRemoved ?? 0,
                100 * (m.trainRepeatRunShare ?? 0), 100 * (m.validationRepeatRunShare ?? 0)),
            String(
                format: "  read %d files (%.1f MB, %d chunks) on %d rank(s) × %d thread(s)%@; skipped %d binary file(s), "
                    + "%d JSON Lines record(s); replaced %d invalid UTF-8 sequence(s); wrote %d shard(s)",
                r.files, mb, r.chunks, r.ranks, r.threads,
                (r.ranks > 1
                    ? " (MB by rank: \(r.bytesByRank.map { String(format: "%.1f", Double($0) / 1e6) }.joined(separator: ", ")))" : "")
                    + (r.passes > 1 ? " (tokenized twice: fallback validation document)" : ""),
                m.skippedBinaryFiles, r.skippedRecords, m.invalidUTF8Sequences,
                m.trainShards.count + m.validationShards.count)
        ]
    }
}
