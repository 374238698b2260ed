import Foundation

/// The one writer of `sift prepare`: takes the tokenized parts of a plan's chunks in chunk order, splits
/// documents into train and validation by document index, packs them into shards, and keeps the counts
/// of the manifest and the per-file warnings. Given the parts in chunk order it writes the same bytes
/// whoever tokenized them.
final class DatasetAssembler {
    let plan: CorpusPlan
    let seed: UInt64
    let fraction: Double
    /// The document forced into validation (known only after a first pass found no hashed one).
    let fallback: Int?
    let writers: [ShardWriter]
    /// The counts and warnings of the chunks written.
    let tally: CorpusTally

    /// The carry the last written chunk ended with: what the next chunk must have started from.
    private(set) var carry = CorpusFilter.Carry()
    /// Documents seen so far (the index of the current one).
    private(set) var documents = 0
    /// Whether some document's hash put it in validation (if none did, the fallback is needed).
    private(set) var anyHashed = false
    private var split = 0
    private var runs = [DatasetPreparer.RepeatRunCounter(), DatasetPreparer.RepeatRunCounter()]

    /// `repeated`: the corpus was tokenized before in this run (its file and record warnings were given then).
    init(
        plan: CorpusPlan, seed: UInt64, fraction: Double, fallback: Int?, writers: [ShardWriter], repeated: Bool = false,
        warn: @escaping (String) -> Void
    ) {
        self.plan = plan
        self.seed = seed
        self.fraction = fraction
        self.fallback = fallback
        self.writers = writers
        tally = CorpusTally(plan: plan, repeated: repeated, warn: warn)
        split = splitOf(0)
    }

    private func hashed(_ index: Int) -> Bool {
        DatasetPreparer.isValidationDocument(index, seed: seed, fraction: fraction, fallback: nil)
    }

    private func splitOf(_ index: Int) -> Int {
        index == fallback || hashed(index) ? 1 : 0
    }

    /// Writes one part. Parts must come in chunk order, each chunk's from first to last, and a chunk's
    /// first part must have started from `carry` (the caller checks and tokenizes again if not).
    func write(_ part: ChunkPart) throws {
        var from = 0
        for end in part.documentEnds {
            try append(part.tokens[from..<end])
            writers[split].endDocument()
            runs[split].endDocument()
            if hashed(documents) { anyHashed = true }
            documents += 1
            split = splitOf(documents)
            from = end
        }
        try append(part.tokens[from...])
        guard part.last else { return }
        carry = part.endCarry
        tally.add(chunk: part.chunk, part.counts)
    }

    private func append(_ tokens: ArraySlice<Int32>) throws {
        guard !tokens.isEmpty else { return }
        runs[split].add(tokens)
        try writers[split].append(tokens)
    }

    /// Ends the corpus: flushes the run counters, closes the shards, warns about skipped records, and
    /// fills the manifest's counts.
    func finish(into manifest: inout DatasetManifest) throws {
        for i in runs.indices { runs[i].endDocument() }
        tally.finish()
        for w in writers { try w.finish() }
        let train = writers[0], validation = writers[1]
        manifest.corpusFormat = plan.format.rawValue
        manifest.markupLinesRemoved = tally.removedLines
        manifest.trainRepeatRunShare = runs[0].share
        manifest.validationRepeatRunShare = runs[1].share
        manifest.trainDocuments = train.documents
        manifest.validationDocuments = validation.documents
        manifest.documents = train.documents + validation.documents
        manifest.trainTokens = train.contentTokens
        manifest.validationTokens = validation.contentTokens
        manifest.tokens = train.contentTokens + validation.contentTokens
        manifest.trainSequences = train.sequences
        manifest.validationSequences = validation.sequences
        manifest.trainShards = train.shards
        manifest.validationShards = validation.shards
        manifest.corpusBytes = tally.bytes
        manifest.invalidUTF8Sequences = tally.invalidUTF8
        manifest.skippedBinaryFiles = tally.binaryFiles
        manifest.skippedRecords = tally.skippedRecords
        manifest.textField = plan.format == .jsonl ? plan.textField : nil
    }
}
