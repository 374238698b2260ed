import ArgumentParser
import Foundation

/// `--json FILE`, checked for a writable directory before any work starts.
struct JSONOutputOptions: ParsableArguments {
    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    func validate() throws {
        if let json {
            let dir = (json as NSString).deletingLastPathComponent
            guard FileManager.default.isWritableFile(atPath: dir.isEmpty ? "." : dir) else {
                throw ValidationError("--json: cannot write to directory '\(dir.isEmpty ? "." : dir)'")
            }
        }
    }
}
