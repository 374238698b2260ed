import Foundation

/// Runs the release `sift` binary, directly or under `mpirun`, for tests that need real processes.
public enum SiftProcess {
    public struct Output {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var timedOut: Bool
    }

    /// The repository root (three levels above this file).
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The binary under test: $SIFT_BINARY (set by launch/test.sh), else this checkout's release build.
    public static var binary: String {
        if let b = ProcessInfo.processInfo.environment["SIFT_BINARY"] { return b }
        return repository.appendingPathComponent(".build/release/sift").path
    }

    /// Runs `sift ARGS` on `ranks` ranks with mpirun (oversubscribed, one OpenBLAS thread each), or
    /// directly when `ranks` is nil, or `launcher ARGS` (a script that starts sift, told the binary by
    /// $SIFT_BINARY) when given. Kills the job after `timeout` seconds so a hang fails the test
    /// instead of stalling CI. `during` is called about every 0.1 s while it runs, with its stderr so far.
    public static func run(
        _ args: [String], ranks: Int? = nil, timeout: TimeInterval = 300,
        extraMPIArgs: [String] = [], environment: [String: String] = [:],
        launcher: String? = nil, during: ((String) -> Void)? = nil
    ) throws -> Output {
        let p = Process()
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        if let launcher {
            env["SIFT_BINARY"] = binary
            p.executableURL = URL(fileURLWithPath: launcher)
            p.arguments = args
        } else if let ranks {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
            p.arguments =
                ["-np", "\(ranks)", "--oversubscribe", "--bind-to", "none", "-x", "OPENBLAS_NUM_THREADS"]
                + extraMPIArgs + [binary] + args
        } else {
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = args
        }
        let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("sift-out-\(UUID().uuidString)")
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("sift-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while p.isRunning {
            if Date() > deadline {
                timedOut = true
                p.terminate()
                Thread.sleep(forTimeInterval: 2)
                if p.isRunning { kill(p.processIdentifier, SIGKILL) }
                break
            }
            if let during { during((try? String(contentsOf: errURL, encoding: .utf8)) ?? "") }
            Thread.sleep(forTimeInterval: during == nil ? 0.05 : 0.1)
        }
        p.waitUntilExit()
        let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return Output(status: p.terminationStatus, stdout: out, stderr: err, timedOut: timedOut)
    }

    /// Processes whose executable is the sift binary and whose command line mentions `needle`
    /// (the ranks of one run, found by its unique checkpoint directory).
    public static func rankPIDs(matching needle: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"),
                exe.hasSuffix("/sift"),
                let cmd = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
            else { return false }
            return String(decoding: cmd, as: UTF8.self).contains(needle)
        }.sorted()
    }
}
