import Data
import Foundation
import XCTest

/// The reStructuredText cleaner and the JSON Lines reader on hand-made input.
final class CorpusFormatTests: XCTestCase {
    func run(_ format: CorpusFormat, _ lines: [String]) -> [String] {
        var filter = CorpusFilter(format: format)
        var out: [String] = []
        for line in lines {
            let event: CorpusEvent = line.isEmpty ? .endOfDocument : .text(line)
            filter.process(event) { e in
                switch e {
                case .text(let t): out.append(t)
                case .endOfDocument: out.append("<end>")
                }
            }
        }
        filter.process(.endOfDocument) { if case .endOfDocument = $0 { out.append("<end>") } }
        return out
    }

    func testRestructuredTextMarkupIsRemovedAndProseKept() {
        let source = [
            "*******************",
            "  Built-in Types",
            "*******************",
            "",
            ".. _bltin-types:",
            "",
            "The following sections describe the :ref:`standard types <types>` that are built into the",
            "interpreter, see :func:`~os.path.join` and ``len(x)``.  Use **bold** and *emphasis*.",
            "",
            "Truth Value Testing",
            "===================",
            "",
            ".. index::",
            "   statement: if",
            "   pair: truth; value",
            "",
            ".. function:: print(*objects, sep=' ')",
            "   :noindex:",
            "",
            "   Print *objects* to the text stream, see `the docs <https://example.org>`_.",
            "",
            ".. This is a comment",
            "   spanning two lines.",
            "",
            "+------+------+",
            "| a    | b    |",
            "+======+======+",
            "",
            "Example::",
            "",
            "   x = 1",
            "",
            ".. versionadded:: 3.2"
        ]
        let out = run(.rst, source)
        XCTAssertEqual(
            out,
            [
                "  Built-in Types", "<end>",
                "The following sections describe the standard types that are built into the",
                "interpreter, see os.path.join and len(x).  Use bold and emphasis.", "<end>",
                "Truth Value Testing", "<end>",
                "print(*objects, sep=' ')", "<end>",
                "   Print objects to the text stream, see the docs.", "<end>",
                "  a      b     ", "<end>",
                "Example:", "<end>",
                "   x = 1", "<end>"
            ])
    }

    func testPlainTextIsUnchanged() {
        XCTAssertEqual(run(.text, ["=====", "a *b*", ""]), ["=====", "a *b*", "<end>"])
    }

    func testJSONLinesTakesTheTextFieldAsOneDocument() {
        var filter = CorpusFilter(format: .jsonl)
        var out: [String] = []
        for line in [#"{"text": "first line\nsecond line", "id": 1}"#, #"{"id": 2}"#, "not json", #"{"text": "third"}"#] {
            filter.process(.text(line)) { e in
                if case .text(let t) = e { out.append(t) } else { out.append("<end>") }
            }
        }
        XCTAssertEqual(out, ["first line", "second line", "<end>", "third", "<end>"])
        XCTAssertEqual(filter.skippedRecords, 2)
    }

    func testFormatDetection() {
        XCTAssertEqual(CorpusFormat.detect(files: ["a/b.rst.txt", "c.rst", "d.txt"]), .rst)
        XCTAssertEqual(CorpusFormat.detect(files: ["a.jsonl"]), .jsonl)
        XCTAssertEqual(CorpusFormat.detect(files: ["a.txt", "b.rst"]), .text)
    }
}
