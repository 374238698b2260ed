import Foundation

/// Standard error output, one complete line per call (warnings, progress notes, `error: …` lines).
public enum StandardError {
    /// Writes `text` followed by a newline unless it already ends with one.
    public static func line(_ text: String) {
        let terminated = text.hasSuffix("\n") ? text : text + "\n"
        FileHandle.standardError.write(Data(terminated.utf8))
    }
}
