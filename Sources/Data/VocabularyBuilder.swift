/// Learns a WordPiece vocabulary from a corpus.
///
/// Method: BPE-style pair merging over WordPiece symbols, as HuggingFace `tokenizers`'
/// `WordPieceTrainer` does. Words (after `BasicTokenizer`) start as their first character plus
/// `##`-prefixed continuation characters; the most frequent adjacent symbol pair (weighted by
/// word frequency, ties broken by the smaller symbol ids) is merged repeatedly until the
/// vocabulary reaches the requested size or no pair occurs at least twice. The result is used
/// with greedy longest-match WordPiece like any BERT vocab.txt.
///
/// Memory stays bounded: word counting keeps at most `maxDistinctWords` entries and, when the table
/// overflows, prunes it (`prune`) to at most half by dropping its rarest words, as the reference trainers
/// (word2vec's ReduceVocab, fastText) cap their word tables. A word dropped early may come back later with
/// the count of its later occurrences only.
public struct VocabularyBuilder {
    /// The default cap on distinct words: about 2 M words, a table of about 150–250 MB.
    public static let defaultMaxDistinctWords = 2_000_000
    public let cased: Bool
    public let maxDistinctWords: Int
    /// Distinct-word table: word → frequency.
    public private(set) var wordCounts: [String: Int] = [:]
    /// The largest count threshold a prune used (0: never pruned): words seen fewer times were dropped.
    public private(set) var pruneThreshold = 0
    /// Words dropped by pruning (a word dropped twice counts twice).
    public private(set) var prunedWords = 0
    /// Times the table was pruned.
    public private(set) var prunes = 0

    public init(cased: Bool, maxDistinctWords: Int = VocabularyBuilder.defaultMaxDistinctWords) {
        self.cased = cased
        self.maxDistinctWords = maxDistinctWords
    }

    /// Counts the basic-tokenized words of `text`.
    public mutating func count(text: String, using basic: BasicTokenizer) {
        basic.forEachWord(in: text) { word in
            wordCounts[word, default: 0] += 1
        }
        if wordCounts.count > maxDistinctWords { prune() }
    }

    /// Adds the counts of a piece of the corpus (one chunk's words), then prunes if the table overflows.
    public mutating func add(_ counts: [String: Int]) {
        if wordCounts.isEmpty {
            wordCounts = counts
        } else {
            wordCounts.merge(counts, uniquingKeysWith: +)
        }
        if wordCounts.count > maxDistinctWords { prune() }
    }

    /// Drops the rarest words until at most `maxDistinctWords / 2` are left: those seen fewer than t times,
    /// t ≥ 2 the smallest threshold that leaves at most that many (ties at the threshold all go or all stay,
    /// so the result does not depend on the table's order). Each prune finds its own t.
    public mutating func prune() {
        prunes += 1
        let keep = maxDistinctWords / 2
        var counts = wordCounts.values.sorted(by: >)
        let threshold = max(2, counts.count > keep ? counts[keep] + 1 : 2)
        counts = []
        let before = wordCounts.count
        wordCounts = wordCounts.filter { $0.value >= threshold }
        prunedWords += before - wordCounts.count
        pruneThreshold = max(pruneThreshold, threshold)
    }

    /// Learns `size` tokens (specials included) from the counted words; returns them in id order:
    /// [PAD] [UNK] [CLS] [SEP] [MASK], single characters, `##` characters, then merges in
    /// the order they were learned.
    public func learn(size: Int) throws -> [String] {
        let specials = Vocabulary.specialTokenNames
        guard size > specials.count else {
            throw DataError.invalidArgument("vocabulary size \(size) must exceed the \(specials.count) special tokens")
        }
        // Alphabet: plain (word-initial) and continuation characters, most frequent first.
        var initial: [Unicode.Scalar: Int] = [:]
        var continuation: [Unicode.Scalar: Int] = [:]
        for (word, n) in wordCounts {
            let scalars = word.unicodeScalars
            if scalars.count > BertTokenizer.maxWordScalars { continue }
            var first = true
            for s in scalars {
                if first {
                    initial[s, default: 0] += n
                    first = false
                } else {
                    continuation[s, default: 0] += n
                }
            }
        }
        func ranked(_ d: [Unicode.Scalar: Int]) -> [Unicode.Scalar] {
            d.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.value < $1.key.value }.map(\.key)
        }
        var alphabet: [(String, Int)] =
            ranked(initial).map { (String(Character($0)), initial[$0]!) }
            + ranked(continuation).map { ("##" + String(Character($0)), continuation[$0]!) }
        let budget = size - specials.count
        if alphabet.count > budget {
            // Keep the most frequent characters; words using the others will become [UNK].
            alphabet = Array(alphabet.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(budget))
            let kept = Set(alphabet.map(\.0))
            alphabet = (ranked(initial).map { String(Character($0)) } + ranked(continuation).map { "##" + String(Character($0)) })
                .filter { kept.contains($0) }.map { ($0, 0) }
        }
        var symbols: [String] = alphabet.map(\.0)
        var symbolId: [String: Int32] = [:]
        for (i, s) in symbols.enumerated() { symbolId[s] = Int32(i) }

        // Words as symbol-id sequences.
        var words: [[Int32]] = []
        var freqs: [Int] = []
        for (word, n) in wordCounts.sorted(by: { $0.key < $1.key }) {
            let scalars = Array(word.unicodeScalars)
            if scalars.count > BertTokenizer.maxWordScalars { continue }
            var seq: [Int32] = []
            seq.reserveCapacity(scalars.count)
            var ok = true
            for (i, s) in scalars.enumerated() {
                guard let id = symbolId[(i == 0 ? "" : "##") + String(Character(s))] else {
                    ok = false
                    break
                }
                seq.append(id)
            }
            if ok {
                words.append(seq)
                freqs.append(n)
            }
        }

        @inline(__always) func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }
        var pairCounts: [UInt64: Int] = [:]
        var pairWords: [UInt64: [Int32]] = [:]
        for (w, seq) in words.enumerated() where seq.count > 1 {
            for i in 0..<(seq.count - 1) {
                let k = key(seq[i], seq[i + 1])
                pairCounts[k, default: 0] += freqs[w]
                pairWords[k, default: []].append(Int32(w))
            }
        }
        var heap = MaxHeap()
        for (k, c) in pairCounts { heap.push(priority: c, key: k) }

        // Net change of each pair's count in one merge: only the pairs whose count changed get a new heap entry
        // (an unchanged pair's entry is still current), which keeps the stale entries few.
        var changed: [UInt64: Int] = [:]
        while specials.count + symbols.count < size, let top = heap.pop() {
            guard let current = pairCounts[top.key], current == top.priority else { continue }  // stale entry
            if current < 2 { break }
            let a = Int32(truncatingIfNeeded: top.key >> 32), b = Int32(truncatingIfNeeded: top.key & 0xFFFF_FFFF)
            let merged = symbols[Int(a)] + (symbols[Int(b)].hasPrefix("##") ? String(symbols[Int(b)].dropFirst(2)) : symbols[Int(b)])
            let m: Int32
            if let existing = symbolId[merged] {
                m = existing
            } else {
                m = Int32(symbols.count)
                symbols.append(merged)
                symbolId[merged] = m
            }
            changed.removeAll(keepingCapacity: true)
            for w in pairWords[top.key] ?? [] {
                let seq = words[Int(w)]
                var contains = false
                if seq.count > 1 {
                    for i in 0..<(seq.count - 1) where seq[i] == a && seq[i + 1] == b {
                        contains = true
                        break
                    }
                }
                if !contains { continue }
                let n = freqs[Int(w)]
                for i in 0..<(seq.count - 1) {
                    let k = key(seq[i], seq[i + 1])
                    pairCounts[k]! -= n
                    changed[k, default: 0] -= n
                }
                var out: [Int32] = []
                out.reserveCapacity(seq.count)
                var i = 0
                while i < seq.count {
                    if i + 1 < seq.count && seq[i] == a && seq[i + 1] == b {
                        out.append(m)
                        i += 2
                    } else {
                        out.append(seq[i])
                        i += 1
                    }
                }
                if out.count > 1 {
                    for j in 0..<(out.count - 1) {
                        let k = key(out[j], out[j + 1])
                        pairCounts[k, default: 0] += n
                        changed[k, default: 0] += n
                        if out[j] == m || out[j + 1] == m { pairWords[k, default: []].append(w) }
                    }
                }
                words[Int(w)] = out
            }
            pairWords[top.key] = nil
            for (k, delta) in changed where delta != 0 {
                if let c = pairCounts[k] {
                    if c <= 0 { pairCounts[k] = nil } else { heap.push(priority: c, key: k) }
                }
            }
        }
        return specials + symbols
    }
}
