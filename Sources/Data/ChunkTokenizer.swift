import Foundation

/// A piece of one chunk's tokenized output, in chunk order: its token ids and where documents end.
/// A chunk's output comes in one or more parts (a part holds at most `ChunkTokenizer.partTokens` ids, so
/// memory stays bounded whatever the chunk); the chunk's counts ride on its last part.
public struct ChunkPart: Sendable {
    public var chunk: Int
    public var first = true
    public var last = false
    /// Token ids of the part's text, in order.
    public var tokens: [Int32] = []
    /// Offsets into `tokens` at which a document ends (equal offsets: a document without tokens).
    public var documentEnds: [Int] = []
    /// The filter carry the chunk was tokenized from (first part) and ended with (last part).
    public var startCarry = CorpusFilter.Carry()
    public var endCarry = CorpusFilter.Carry()
    // The counts below are set on the last part only.
    /// Bytes read (0 when the file is binary).
    public var bytes = 0
    public var invalidUTF8 = 0
    /// Lines of the chunk, to number the lines of the next chunk of the same file.
    public var lines = 0
    /// The file was skipped as binary.
    public var binary = false
    public var removedLines = 0
    public var brokenLines = 0
    public var recordsWithoutText = 0
    /// Line numbers (from 1 at the chunk's start) of the first few skipped JSON Lines records.
    public var brokenPlaces: [Int] = []
    public var textlessPlaces: [Int] = []

    public init(chunk: Int) { self.chunk = chunk }
}

/// Reads and tokenizes one chunk of a plan: the same reader, format filter and tokenizer as a
/// whole-corpus pass, on the chunk's byte range.
public struct ChunkTokenizer: Sendable {
    /// Most token ids in one part.
    public static let partTokens = 1 << 20
    /// How many skipped-record places a chunk keeps for the warnings.
    static let keptPlaces = 5

    public let plan: CorpusPlan
    public let tokenizer: BertTokenizer

    public init(plan: CorpusPlan, tokenizer: BertTokenizer) {
        self.plan = plan
        self.tokenizer = tokenizer
    }

    /// Tokenizes chunk `index` from filter state `carry` (default: the plan's assumption), handing each
    /// part to `emit` in order.
    public func tokenize(_ index: Int, carry: CorpusFilter.Carry? = nil, _ emit: (ChunkPart) throws -> Void) throws {
        let chunk = plan.chunks[index]
        let path = plan.files[chunk.file]
        var filter = CorpusFilter(format: plan.format)
        filter.carry = carry ?? plan.assumedCarry(chunk)
        var part = ChunkPart(chunk: index)
        part.startCarry = filter.carry
        part.tokens.reserveCapacity(1 << 16)
        var brokenPlaces: [Int] = [], textlessPlaces: [Int] = []
        let position = CorpusPosition()
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: CorpusReader.readBufferBytes)
        defer { buffer.deallocate() }
        let read = try CorpusReader.readRange(
            path, from: chunk.start, to: chunk.end, startsInDocument: chunk.startsInDocument,
            endsFile: chunk.lastOfFile, buffer: buffer, position: position
        ) { raw in
            let before = (filter.brokenLines, filter.recordsWithoutText)
            try filter.process(raw) { event in
                switch event {
                case .text(let text):
                    tokenizer.encode(text, appendingTo: &part.tokens)
                    if part.tokens.count >= Self.partTokens {
                        try emit(part)
                        part = ChunkPart(chunk: index)
                        part.first = false
                        part.tokens.reserveCapacity(1 << 16)
                    }
                case .endOfDocument:
                    part.documentEnds.append(part.tokens.count)
                }
            }
            if filter.brokenLines > before.0 && brokenPlaces.count < Self.keptPlaces { brokenPlaces.append(position.line) }
            if filter.recordsWithoutText > before.1 && textlessPlaces.count < Self.keptPlaces {
                textlessPlaces.append(position.line)
            }
        }
        part.last = true
        part.endCarry = filter.carry
        part.bytes = read.bytes
        part.invalidUTF8 = read.invalidUTF8
        part.lines = read.lines
        part.binary = read.binary
        part.removedLines = filter.removedLines
        part.brokenLines = filter.brokenLines
        part.recordsWithoutText = filter.recordsWithoutText
        part.brokenPlaces = brokenPlaces
        part.textlessPlaces = textlessPlaces
        try emit(part)
    }
}
