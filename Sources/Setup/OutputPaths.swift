import Foundation
import Training

/// The files and folders a run writes (rank 0), checked before any rank starts work: the folder of each
/// output file is created, and a path that cannot be written ends the job at setup with one line naming
/// the flag, instead of failing on rank 0 alone in the middle of the run.
public enum OutputPaths {
    /// Checks the metrics file, the selection log, the checkpoint directory and the export directory of
    /// a run. The folders of the two files are created; the two directories are not (saving a checkpoint
    /// or exporting creates them), but the folder they would be created in must be writable.
    /// - Throws: `SetupError` naming the flag, the path and what is wrong with it.
    public static func prepare(_ options: TrainingOptions, export: String?) throws {
        if let path = options.metricsPath { try prepareFile(path, flag: "--metrics") }
        if let path = options.selectionLogPath { try prepareFile(path, flag: "--selection-log") }
        if let dir = options.checkpointDirectory { try checkDirectory(dir, flag: "--checkpoint-dir") }
        if let dir = options.tensorboardDirectory { try checkDirectory(dir, flag: "--tensorboard") }
        if let dir = export { try checkDirectory(dir, flag: "--export") }
        if !options.resume { try clearEarlierRun(options) }
    }

    /// A run from step 0 meets what an earlier run left: checkpoints in `--checkpoint-dir` (which the new
    /// run's rotation would delete in favour of the older, higher-numbered ones, and which a later
    /// `--resume` would continue), a non-empty metrics file or selection log (which it would replace) or
    /// event files in `--tensorboard` (which TensorBoard would show mixed with the new run's).
    /// Without `--start-over` each is an error naming it; with it, every leftover is checked first and
    /// then the checkpoints (and those set aside as damaged, `NAME.damaged` and `NAME.damaged-K`) and the
    /// event files are deleted; the logs are replaced when opened. Other files in the two directories are
    /// left alone.
    /// - Throws: `SetupError` naming the first leftover and the two ways on.
    static func clearEarlierRun(_ options: TrainingOptions) throws {
        let fm = FileManager.default
        var checkpoints: [String] = []
        if let dir = options.checkpointDirectory {
            let found = TrainingCheckpoint.list(directory: dir)
            let damaged = TrainingCheckpoint.damagedFiles(directory: dir)
            checkpoints = found.map(\.path) + damaged
            if !options.startOver && !checkpoints.isEmpty {
                let what =
                    found.last.map { "\(found.count) checkpoint(s) of an earlier run, the newest at step \($0.step)" }
                    ?? "\(damaged.count) damaged checkpoint(s) of an earlier run"
                throw SetupError(
                    "--checkpoint-dir \(dir) holds \(what); continue that run with --resume, "
                        + "or pass --start-over to delete them and start from step 0")
            }
        }
        for (path, flag) in [(options.metricsPath, "--metrics"), (options.selectionLogPath, "--selection-log")] {
            guard let path, !options.startOver else { continue }
            if let size = (try? fm.attributesOfItem(atPath: path))?[.size] as? Int, size > 0 {
                // A new phase's log is a file of its own: --resume would continue the earlier phase instead.
                let way =
                    options.phaseFrom == nil
                    ? "continue that run with --resume" : "give this phase a log of its own (another \(flag) path)"
                throw SetupError(
                    "\(flag) \(path) already holds an earlier run's log (\(size) bytes); \(way), "
                        + "or pass --start-over to replace it")
            }
        }
        var events: [String] = []
        if let dir = options.tensorboardDirectory {
            events = ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(TensorBoardWriter.filePrefix) }.sorted()
                .map { (dir as NSString).appendingPathComponent($0) }
            if !options.startOver && !events.isEmpty {
                throw SetupError(
                    "--tensorboard \(dir) holds \(events.count) event file(s) of an earlier run; continue that run "
                        + "with --resume, or pass --start-over to delete them")
            }
        }
        for path in checkpoints + events where unlink(path) != 0 && errno != ENOENT {
            throw SetupError("--start-over: cannot delete \(path) (\(String(cString: strerror(errno))))")
        }
    }

    /// A file the run will create or append to: not a directory, its folder created and writable.
    static func prepareFile(_ path: String, flag: String) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw SetupError("\(flag) \(path) is a directory; give a file path") }
            guard access(path, W_OK) == 0 else { throw SetupError("\(flag) \(path) is not writable") }
            return
        }
        let folder = (path as NSString).deletingLastPathComponent
        let parent = folder.isEmpty ? "." : folder
        do {
            try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw SetupError("\(flag) \(path): cannot create its folder \(parent) (\(reason(error)))")
        }
        guard access(parent, W_OK) == 0 else { throw SetupError("\(flag) \(path): its folder \(parent) is not writable") }
    }

    /// A directory the run creates later: an existing one must be a writable directory, a missing one
    /// must have a writable directory as its nearest existing ancestor.
    static func checkDirectory(_ path: String, flag: String) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw SetupError("\(flag) \(path) is a file, not a directory") }
            guard access(path, W_OK) == 0 else { throw SetupError("\(flag) \(path) is not writable") }
            return
        }
        var ancestor = (path as NSString).deletingLastPathComponent
        while !ancestor.isEmpty && !fm.fileExists(atPath: ancestor, isDirectory: &isDirectory) {
            ancestor = (ancestor as NSString).deletingLastPathComponent
        }
        if ancestor.isEmpty {
            ancestor = path.hasPrefix("/") ? "/" : "."
            _ = fm.fileExists(atPath: ancestor, isDirectory: &isDirectory)
        }
        guard isDirectory.boolValue else { throw SetupError("\(flag) \(path) cannot be created: \(ancestor) is a file") }
        guard access(ancestor, W_OK) == 0 else { throw SetupError("\(flag) \(path) cannot be created: \(ancestor) is not writable") }
    }

    private static func reason(_ error: Error) -> String {
        let e = error as NSError
        if let underlying = e.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return e.localizedDescription
    }
}
