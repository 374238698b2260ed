import Foundation

/// Reads and tokenizes one chunk of a plan: the same reader, format filter and tokenizer as a
/// whole-corpus pass, on the chunk's byte range.
public struct ChunkTokenizer: Sendable {
    /// Most token ids in one part.
    public static let partTokens = 1 << 20
    /// How many skipped JSON Lines records are named, one warning line each (the first in corpus order);
    /// a chunk keeps this many places of each kind, enough for the first ones over all chunks.
    public static let keptPlaces = 20

    public let plan: CorpusPlan
    public let tokenizer: BertTokenizer

    public init(plan: CorpusPlan, tokenizer: BertTokenizer) {
        self.plan = plan
        self.tokenizer = tokenizer
    }

    /// The same chunk tokenizer with a tokenizer of its own, for one worker thread (`BertTokenizer.independentCopy`).
    public func independentCopy() -> ChunkTokenizer { ChunkTokenizer(plan: plan, tokenizer: tokenizer.independentCopy()) }

    /// A `ChunkPipeline` producer per worker, each tokenizing with a tokenizer of its own: threads sharing one
    /// tokenizer contend on its reference counts, which every word's lookup touches (docs/BENCHMARKS.md).
    func workerProducers() -> (Int) -> ChunkPipeline<ChunkPart>.Producer {
        { _ in
            let own = independentCopy()
            return { try own.tokenize($0, $1) }
        }
    }

    /// Reads chunk `index` of `plan` through the format filter from state `carry` (default: the plan's
    /// assumption), handing `body` the filtered events; returns what was read and the carry it ended with.
    /// The one reader of a chunk, for `sift prepare` (tokenizing) and `sift vocab` (counting words).
    public static func read(
        _ plan: CorpusPlan, chunk index: Int, carry: CorpusFilter.Carry? = nil,
        _ body: (CorpusEvent) throws -> Void
    ) throws -> (counts: ChunkCounts, endCarry: CorpusFilter.Carry) {
        let chunk = plan.chunks[index]
        var filter = CorpusFilter(format: plan.format, textField: plan.textField)
        filter.carry = carry ?? plan.assumedCarry(chunk)
        var counts = ChunkCounts()
        let position = CorpusPosition()
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: CorpusReader.readBufferBytes)
        defer { buffer.deallocate() }
        let read = try CorpusReader.readRange(
            plan.files[chunk.file], from: chunk.start, to: chunk.end, startsInDocument: chunk.startsInDocument,
            endsFile: chunk.lastOfFile, buffer: buffer, position: position
        ) { raw in
            let before = (filter.brokenLines, filter.recordsWithoutText)
            try filter.process(raw, body)
            if filter.brokenLines > before.0 && counts.brokenPlaces.count < keptPlaces {
                counts.brokenPlaces.append(position.line)
            }
            if filter.recordsWithoutText > before.1 && counts.textlessPlaces.count < keptPlaces {
                counts.textlessPlaces.append(position.line)
            }
        }
        counts.bytes = read.bytes
        counts.invalidUTF8 = read.invalidUTF8
        counts.lines = read.lines
        counts.binary = read.binary
        counts.removedLines = filter.removedLines
        counts.brokenLines = filter.brokenLines
        counts.recordsWithoutText = filter.recordsWithoutText
        return (counts, filter.carry)
    }

    /// Tokenizes chunk `index` from filter state `carry` (default: the plan's assumption), handing each
    /// part to `emit` in order.
    public func tokenize(_ index: Int, carry: CorpusFilter.Carry? = nil, _ emit: (ChunkPart) throws -> Void) throws {
        var part = ChunkPart(chunk: index)
        part.startCarry = carry ?? plan.assumedCarry(plan.chunks[index])
        part.tokens.reserveCapacity(1 << 16)
        let read = try Self.read(plan, chunk: index, carry: part.startCarry) { event in
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
        part.last = true
        part.endCarry = read.endCarry
        part.counts = read.counts
        try emit(part)
    }
}
