extension DatasetPreparer {
    /// Inputs of one `prepare` run.
    public struct Options {
        public var corpus: [String]
        public var vocabPath: String
        public var cased: Bool
        public var seqLen: Int
        public var outDirectory: String
        public var validationFraction: Double
        public var seed: UInt64
        public var sequencesPerShard: Int
        /// How to read the corpus; nil picks it from the file names (`CorpusFormat.detect`).
        public var format: CorpusFormat?
        /// The JSON Lines field holding a record's text.
        public var textField: String
        /// Worker threads tokenizing on this rank (≥ 1).
        public var threads: Int
        /// Target bytes per chunk of a large file (`CorpusPlan`); any value gives the same dataset.
        public var chunkBytes: Int
        /// For tests of the hand-out of chunks: the rank whose workers wait this long before each chunk.
        public var slowRank: (rank: Int, secondsPerChunk: Double)? = nil

        public init(
            corpus: [String], vocabPath: String, cased: Bool = false, seqLen: Int = 128,
            outDirectory: String, validationFraction: Double = 0.01, seed: UInt64 = 0,
            sequencesPerShard: Int = 65536, format: CorpusFormat? = nil,
            textField: String = CorpusFilter.defaultTextField, threads: Int = 1,
            chunkBytes: Int = CorpusPlan.defaultChunkBytes
        ) {
            self.format = format
            self.textField = textField
            self.corpus = corpus
            self.vocabPath = vocabPath
            self.cased = cased
            self.seqLen = seqLen
            self.outDirectory = outDirectory
            self.validationFraction = validationFraction
            self.seed = seed
            self.sequencesPerShard = sequencesPerShard
            self.threads = threads
            self.chunkBytes = chunkBytes
        }
    }
}
