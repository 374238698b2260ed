extension DatasetPreparer {
    /// Counts content tokens and those inside runs of ≥ `TokenStatistics.runLength` identical tokens
    /// over a document's token stream (the label-composition figure of the manifest).
    struct RepeatRunCounter {
        var tokens = 0, inRuns = 0
        private var last: Int32 = -1, run = 0

        mutating func add<C: Collection>(_ ids: C) where C.Element == Int32 {
            for id in ids {
                if id == last {
                    run += 1
                } else {
                    flush()
                    last = id
                    run = 1
                }
            }
            tokens += ids.count
        }

        mutating func endDocument() {
            flush()
            last = -1
        }

        private mutating func flush() {
            if run >= TokenStatistics.runLength { inRuns += run }
            run = 0
        }

        var share: Double { tokens > 0 ? Double(inRuns) / Double(tokens) : 0 }
    }
}
