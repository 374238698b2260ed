/// One chunk's word counts (`CorpusWordCounter`), with the filter carry it was read from and ended with.
struct ChunkWords: ChunkOutput {
    var chunk: Int
    var last: Bool { true }
    var weight: Int { 1 }
    static var fullWeight: Int { 1 }
    var words: [String: Int] = [:]
    var startCarry = CorpusFilter.Carry()
    var endCarry = CorpusFilter.Carry()
    var counts = ChunkCounts()
}
