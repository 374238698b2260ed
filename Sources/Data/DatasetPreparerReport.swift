extension DatasetPreparer {
    /// What a run found and wrote, for the closing summary.
    public struct Report: Sendable {
        public var manifest: DatasetManifest
        /// Files in the corpus and chunks it was cut into.
        public var files: Int
        public var chunks: Int
        /// JSON Lines records skipped (not an object, or no string text field).
        public var skippedRecords: Int
        /// Times the corpus was tokenized (2 when the fallback validation document was needed).
        public var passes: Int
        /// Ranks and threads per rank that tokenized.
        public var ranks: Int
        public var threads: Int
        /// Bytes of corpus (as planned) each rank tokenized in the last pass: ranks ask rank 0 for chunks as
        /// their threads free up, so a busier or slower rank takes less.
        public var bytesByRank: [Int]
    }
}
