import Data
import XCTest

final class TokenizerReferenceTests: XCTestCase {
    func testUncasedMatchesHuggingFace() throws {
        let vocab = try Vocabulary(path: referenceVocabularyPath())
        let tokenizer = BertTokenizer(vocabulary: vocab, cased: false)
        for (text, expected) in HFReference.uncased {
            XCTAssertEqual(tokenizer.encode(text), expected, "uncased: \(text.debugDescription) → \(tokenizer.tokenize(text))")
        }
    }

    func testCasedMatchesHuggingFace() throws {
        let vocab = try Vocabulary(path: referenceVocabularyPath())
        let tokenizer = BertTokenizer(vocabulary: vocab, cased: true)
        for (text, expected) in HFReference.cased {
            XCTAssertEqual(tokenizer.encode(text), expected, "cased: \(text.debugDescription) → \(tokenizer.tokenize(text))")
        }
    }

    /// A worker's own copy (`BertTokenizer.independentCopy`) is the same tokenizer: every token keeps its id,
    /// the vocabulary's identity and limits are the same, and HuggingFace's reference texts encode the same.
    func testAnIndependentCopyIsTheSameTokenizer() throws {
        let vocab = try Vocabulary(path: referenceVocabularyPath())
        for cased in [false, true] {
            let tokenizer = BertTokenizer(vocabulary: vocab, cased: cased)
            let copy = tokenizer.independentCopy()
            XCTAssertEqual(copy.basic.cased, cased)
            let v = copy.vocabulary
            XCTAssertEqual(v.tokens, vocab.tokens)
            for (i, token) in vocab.tokens.enumerated() { XCTAssertEqual(v.id(of: token), Int32(i), token) }
            XCTAssertNil(v.id(of: "no-such-token-here"))
            XCTAssertEqual(v.hash, vocab.hash)
            XCTAssertEqual(
                [v.padId, v.unkId, v.clsId, v.sepId, v.maskId], [vocab.padId, vocab.unkId, vocab.clsId, vocab.sepId, vocab.maskId])
            XCTAssertEqual(v.maxPieceScalars, vocab.maxPieceScalars)
            XCTAssertEqual(v.continuationPieces, vocab.continuationPieces)
            for (text, _) in cased ? HFReference.cased : HFReference.uncased {
                XCTAssertEqual(copy.encode(text), tokenizer.encode(text), text.debugDescription)
            }
        }
    }

    /// Property: the WordPiece pieces of each basic word, with `##` stripped, join back to the
    /// word (whenever the word is not [UNK]).
    func testPiecesJoinBackToBasicWords() throws {
        let vocab = try Vocabulary(path: referenceVocabularyPath())
        var rng = SplitMix(seed: 42)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ éüßΟΣ中国.,!?'-\t\n\u{301}\u{200B}[]MASK")
        for cased in [false, true] {
            let tokenizer = BertTokenizer(vocabulary: vocab, cased: cased)
            for _ in 0..<2000 {
                let length = Int(rng.next() % 40)
                let text = String((0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
                var reconstructedWords = 0
                for word in tokenizer.basic.tokenize(text) {
                    var pieces: [String] = []
                    tokenizer.wordPiece(word) { _, piece in pieces.append(piece) }
                    if pieces == ["[UNK]"] && word != "[UNK]" { continue }
                    let joined = pieces.map { $0.hasPrefix("##") ? String($0.dropFirst(2)) : $0 }.joined()
                    XCTAssertEqual(joined, word, "text \(text.debugDescription)")
                    for (k, piece) in pieces.enumerated() where k > 0 { XCTAssertTrue(piece.hasPrefix("##")) }
                    reconstructedWords += 1
                }
                // the whole text tokenizes to the concatenation of its words' pieces
                var concatenated: [Int32] = []
                for word in tokenizer.basic.tokenize(text) { tokenizer.wordPiece(word) { id, _ in concatenated.append(id) } }
                XCTAssertEqual(tokenizer.encode(text), concatenated)
            }
        }
    }
}

/// Test-local SplitMix64 generator (independent of the library's CounterHash).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
