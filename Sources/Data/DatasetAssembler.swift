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
    private let warn: (String) -> Void

    /// The carry the last written chunk ended with: what the next chunk must have started from.
    private(set) var carry = CorpusFilter.Carry()
    /// Documents seen so far (the index of the current one).
    private(set) var documents = 0
    /// Whether some document's hash put it in validation (if none did, the fallback is needed).
    private(set) var anyHashed = false
    private var split = 0
    private var runs = [DatasetPreparer.RepeatRunCounter(), DatasetPreparer.RepeatRunCounter()]
    private(set) var bytes = 0
    private(set) var invalidUTF8 = 0
    private(set) var binaryFiles = 0
    private(set) var removedLines = 0
    private(set) var brokenLines = 0
    private(set) var recordsWithoutText = 0
    private var brokenPlaces: [String] = [], textlessPlaces: [String] = []
    // The file being written: bytes, invalid sequences and lines over its chunks so far.
    private var fileBytes = 0, fileInvalid = 0, fileLines = 0
    /// Chunks fully written.
    private(set) var chunksDone = 0

    init(plan: CorpusPlan, seed: UInt64, fraction: Double, fallback: Int?, writers: [ShardWriter],
         warn: @escaping (String) -> Void) {
        self.plan = plan
        self.seed = seed
        self.fraction = fraction
        self.fallback = fallback
        self.writers = writers
        self.warn = warn
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
        removedLines += part.removedLines
        recordsWithoutText += part.recordsWithoutText
        brokenLines += part.brokenLines
        let chunk = plan.chunks[part.chunk]
        let path = plan.files[chunk.file]
        for line in part.brokenPlaces where brokenPlaces.count < ChunkTokenizer.keptPlaces {
            brokenPlaces.append("\(path):\(fileLines + line)")
        }
        for line in part.textlessPlaces where textlessPlaces.count < ChunkTokenizer.keptPlaces {
            textlessPlaces.append("\(path):\(fileLines + line)")
        }
        fileBytes += part.bytes
        fileInvalid += part.invalidUTF8
        fileLines += part.lines
        chunksDone += 1
        if part.binary {
            warn("warning: \(path): looks binary (NUL byte in the first 8 KiB); skipped")
            binaryFiles += 1
        } else if chunk.lastOfFile {
            if fileBytes == 0 { warn("warning: \(path): empty file") }
            if fileInvalid > 0 { warn("warning: \(path): replaced \(fileInvalid) invalid UTF-8 sequence(s) with U+FFFD") }
        }
        if chunk.lastOfFile {
            if !part.binary { bytes += fileBytes; invalidUTF8 += fileInvalid }
            fileBytes = 0; fileInvalid = 0; fileLines = 0
        }
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
        func places(_ list: [String], of total: Int) -> String {
            list.joined(separator: ", ") + (total > list.count ? ", …" : "")
        }
        if brokenLines > 0 {
            warn("warning: skipped \(brokenLines) JSON Lines line(s) that are not a JSON object: "
                 + places(brokenPlaces, of: brokenLines))
        }
        if recordsWithoutText > 0 {
            warn("warning: skipped \(recordsWithoutText) JSON Lines record(s) without a string \"text\" field: "
                 + places(textlessPlaces, of: recordsWithoutText))
        }
        for w in writers { try w.finish() }
        let train = writers[0], validation = writers[1]
        manifest.corpusFormat = plan.format.rawValue
        manifest.markupLinesRemoved = removedLines
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
        manifest.corpusBytes = bytes
        manifest.invalidUTF8Sequences = invalidUTF8
        manifest.skippedBinaryFiles = binaryFiles
    }
}
