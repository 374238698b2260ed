import Data
import XCTest

/// `VocabularyBuilder.learn` against a brute-force reference that recounts every adjacent pair of every word
/// before each merge: the same tokens in the same order, so the learner's incremental pair counts and its
/// heap of merge candidates (with its stale entries) change nothing.
final class VocabularyLearningTests: XCTestCase {
    /// The reference: the alphabet as `learn` documents it (word-initial characters, then `##` continuation
    /// characters, each most frequent first, ties by code point; no trimming needed here), then repeatedly the
    /// pair with the largest weighted count (ties: smaller first id, then smaller second id) merged left to right
    /// in every word, until `size` tokens or no pair occurs twice.
    func referenceLearn(_ counts: [String: Int], size: Int) -> [String] {
        var initial: [Unicode.Scalar: Int] = [:]
        var continuation: [Unicode.Scalar: Int] = [:]
        for (word, n) in counts {
            for (i, s) in word.unicodeScalars.enumerated() {
                if i == 0 { initial[s, default: 0] += n } else { continuation[s, default: 0] += n }
            }
        }
        func ranked(_ d: [Unicode.Scalar: Int]) -> [Unicode.Scalar] {
            d.keys.sorted { d[$0]! != d[$1]! ? d[$0]! > d[$1]! : $0.value < $1.value }
        }
        var symbols = ranked(initial).map { String(Character($0)) } + ranked(continuation).map { "##" + String(Character($0)) }
        var words: [(sequence: [Int], count: Int)] = counts.keys.sorted().map { word in
            let sequence = word.unicodeScalars.enumerated().map { i, s in
                symbols.firstIndex(of: (i == 0 ? "" : "##") + String(Character(s)))!
            }
            return (sequence, counts[word]!)
        }
        let specials = Vocabulary.specialTokenNames
        while specials.count + symbols.count < size {
            var pairs: [[Int]: Int] = [:]
            for w in words where w.sequence.count > 1 {
                for i in 0..<(w.sequence.count - 1) { pairs[[w.sequence[i], w.sequence[i + 1]], default: 0] += w.count }
            }
            guard
                let best = pairs.max(by: { x, y in
                    x.value != y.value ? x.value < y.value : y.key.lexicographicallyPrecedes(x.key)
                }), best.value >= 2
            else { break }
            let (a, b) = (best.key[0], best.key[1])
            let merged = symbols[a] + (symbols[b].hasPrefix("##") ? String(symbols[b].dropFirst(2)) : symbols[b])
            let m = symbols.firstIndex(of: merged) ?? symbols.count
            if m == symbols.count { symbols.append(merged) }
            words = words.map { w in
                var out: [Int] = []
                var i = 0
                while i < w.sequence.count {
                    if i + 1 < w.sequence.count && w.sequence[i] == a && w.sequence[i + 1] == b {
                        out.append(m)
                        i += 2
                    } else {
                        out.append(w.sequence[i])
                        i += 1
                    }
                }
                return (out, w.count)
            }
        }
        return specials + symbols
    }

    /// Random words over a six-letter alphabet with Zipf-like counts; `seed` picks the corpus.
    func corpus(seed: UInt64, words: Int) -> [String: Int] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        let letters = Array("abcdeé")
        var counts: [String: Int] = [:]
        for rank in 1...words {
            let length = 1 + Int(next() % 7)
            let word = String((0..<length).map { _ in letters[Int(next() % UInt64(letters.count))] })
            counts[word, default: 0] += max(1, 600 / rank) + Int(next() % 3)
        }
        return counts
    }

    func testLearnMatchesTheBruteForceReference() throws {
        for (seed, size) in [(1 as UInt64, 60), (2, 150), (3, 400), (4, 2_000)] {
            let counts = corpus(seed: seed, words: 500)
            var builder = VocabularyBuilder(cased: false)
            builder.add(counts)
            let learned = try builder.learn(size: size)
            let reference = referenceLearn(counts, size: size)
            XCTAssertEqual(learned, reference, "seed \(seed), size \(size)")
            XCTAssertGreaterThan(learned.count, 30, "seed \(seed): merges happened")
        }
    }
}
