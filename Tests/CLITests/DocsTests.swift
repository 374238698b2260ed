import Foundation
import SiftTestSupport
import XCTest

/// The documents a newcomer reads: every relative link in README.md and docs/*.md resolves, and every
/// `sift` command README shows exists (`sift <cmd> --help` exits 0 through the built binary).
final class DocsTests: XCTestCase {
    static let root = SiftProcess.repository.path

    /// README.md and every docs/*.md, as paths relative to the repository.
    static func documents() throws -> [String] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: root + "/docs").filter { $0.hasSuffix(".md") }.sorted()
        return ["README.md"] + docs.map { "docs/" + $0 }
    }

    /// The targets of a Markdown text's inline links and images (`[text](target)`, `![alt](target)`),
    /// without titles; fenced code blocks are skipped.
    static func linkTargets(_ markdown: String) -> [String] {
        let prose = withoutFencedCode(markdown)
        let regex = try! NSRegularExpression(pattern: #"\]\(([^)\s]+)(?:\s+"[^"]*")?\)"#)
        let range = NSRange(prose.startIndex..., in: prose)
        return regex.matches(in: prose, range: range).compactMap { Range($0.range(at: 1), in: prose).map { String(prose[$0]) } }
    }

    static func withoutFencedCode(_ markdown: String) -> String {
        var inFence = false
        return markdown.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                inFence.toggle()
                return false
            }
            return !inFence
        }.joined(separator: "\n")
    }

    /// The relative links of the document at `path` (relative to `base`) whose target does not exist,
    /// as "path: target". External links (a scheme) and in-page anchors are not checked.
    static func brokenLinks(in path: String, base: String = root) throws -> [String] {
        let text = try String(contentsOfFile: base + "/" + path, encoding: .utf8)
        let directory = (path as NSString).deletingLastPathComponent
        return linkTargets(text).filter { target in
            if target.hasPrefix("#") || target.range(of: #"^[a-zA-Z][a-zA-Z0-9+.-]*:"#, options: .regularExpression) != nil { return false }
            let file = String(target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0])
            let resolved = ((base + "/" + directory) as NSString).appendingPathComponent(file.removingPercentEncoding ?? file)
            return !FileManager.default.fileExists(atPath: (resolved as NSString).standardizingPath)
        }.map { "\(path): \($0)" }
    }

    /// The sift subcommands a Markdown text shows in code (code spans and fenced blocks): `sift CMD`,
    /// and `launch/mpirun.sh … -- CMD`.
    static func shownCommands(_ markdown: String) -> Set<String> {
        var code = [String]()
        var inFence = false
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                inFence.toggle()
                continue
            }
            if inFence {
                code.append(String(line))
                continue
            }
            let spans = try! NSRegularExpression(pattern: "`([^`]+)`")
            let s = String(line)
            for m in spans.matches(in: s, range: NSRange(s.startIndex..., in: s)) {
                if let r = Range(m.range(at: 1), in: s) { code.append(String(s[r])) }
            }
        }
        let patterns = [#"(?:^|[\s/(|;&])sift ([a-z][a-z-]*)"#, #"launch/mpirun\.sh[^`\n]*? -- ([a-z][a-z-]*)"#]
        var commands = Set<String>()
        for text in code {
            for p in patterns {
                let regex = try! NSRegularExpression(pattern: p)
                for m in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    if let r = Range(m.range(at: 1), in: text) { commands.insert(String(text[r])) }
                }
            }
        }
        return commands
    }

    func testEveryRelativeLinkResolves() throws {
        var broken = [String]()
        for doc in try Self.documents() { broken += try Self.brokenLinks(in: doc) }
        XCTAssertEqual(broken, [], "links that point nowhere:\n" + broken.joined(separator: "\n"))
    }

    /// The checker itself finds a broken link, ignores external ones, anchors and code, and resolves a
    /// link relative to the document's own folder.
    func testTheLinkCheckerCanFail() throws {
        let base = temporaryDirectory("docs-links")
        try FileManager.default.createDirectory(atPath: base + "/docs/sub", withIntermediateDirectories: true)
        try "x".write(toFile: base + "/docs/sub/there.md", atomically: true, encoding: .utf8)
        let text = """
            [ok](sub/there.md) [anchor](sub/there.md#part) [gone](sub/missing.md) ![img](../nope.png)
            [web](https://example.org/x) [here](#top)
            ```
            [in code](not/checked.md)
            ```
            """
        try text.write(toFile: base + "/docs/page.md", atomically: true, encoding: .utf8)
        XCTAssertEqual(try Self.brokenLinks(in: "docs/page.md", base: base), ["docs/page.md: sub/missing.md", "docs/page.md: ../nope.png"])
    }

    func testReadmeIsShortAndItsCommandsParse() throws {
        let readme = try String(contentsOfFile: Self.root + "/README.md", encoding: .utf8)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false).count
        XCTAssertLessThanOrEqual(lines, 220, "README.md has \(lines) lines; results and essays belong in docs/")
        let commands = Self.shownCommands(readme)
        XCTAssertTrue(commands.isSuperset(of: ["train", "prepare", "vocab"]), "README shows no \(commands)")
        for command in commands.sorted() {
            XCTAssertTrue(
                try Self.commandExists(command), "README shows `sift \(command)`, but `sift \(command) --help` does not describe it")
        }
    }

    /// Whether `sift COMMAND --help` exits 0 with that command's own usage line (for an unknown word
    /// ArgumentParser prints the root help and also exits 0, so the status alone proves nothing).
    static func commandExists(_ command: String) throws -> Bool {
        let out = try SiftProcess.run([command, "--help"], timeout: 60)
        return out.status == 0 && out.stdout.contains("USAGE: sift \(command) ")
    }

    /// The command extraction finds what a reader would type, and an unknown command fails `--help`.
    func testTheCommandCheckCanFail() throws {
        let shown = Self.shownCommands(
            """
            Run `sift vocab --corpus C` then
            ```sh
            launch/mpirun.sh -np 2 -- train --config mini
            .build/release/sift frobnicate --x
            ```
            sift is a trainer (prose, not a command).
            """)
        XCTAssertEqual(shown, ["vocab", "train", "frobnicate"])
        XCTAssertFalse(try Self.commandExists("frobnicate"))
        XCTAssertTrue(try Self.commandExists("summary"))
    }
}
