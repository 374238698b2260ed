import ArgumentParser
import Communication
import Core
import Foundation

/// The MPI side of a command that runs on every rank (`sift train`, `sift advise`): start MPI, set up on
/// every rank and agree that all succeeded before any collective that would hang if one rank were missing,
/// then run, ending every rank cleanly on an error all ranks share and aborting the job on one that only
/// this rank met.
struct RankedJob {
    let comm: Communicator

    /// Starts MPI (or a single rank without mpirun).
    static func start() throws -> RankedJob {
        do { return RankedJob(comm: try Communicator()) } catch { throw CommandFailure("\(error)") }
    }

    /// Prints on rank 0 only.
    func say(_ line: String) {
        if comm.isRoot {
            print(line)
            fflush(stdout)
        }
    }

    /// Builds the job's inputs on every rank; one allgather tells every rank which ranks failed, so a bad
    /// input on one rank alone stops all with status 2 and one line per failing rank.
    func setUp<T>(_ make: () throws -> T) throws -> T {
        var made: T?
        var problem: String?
        do { made = try make() } catch { problem = "\(error)" }
        let flags = comm.allgather(problem == nil ? 0 : 1)
        let failed = flags.indices.filter { flags[$0] != 0 }
        guard failed.isEmpty, let made else {
            if let problem {
                printError("error: \(comm.size > 1 ? "rank \(comm.rank): " : "")\(problem)")
            } else if comm.isRoot {
                let ranks = failed.map(String.init).joined(separator: ", ")
                printError("error: rank\(failed.count > 1 ? "s" : "") \(ranks) could not start (see above); no rank runs")
            }
            comm.finalize()
            throw ExitCode(ExitStatus.badInput.rawValue)
        }
        return made
    }

    /// Seconds a rank that met an error `shared` calls common waits for the other ranks to stop with it
    /// before it aborts the job.
    static let sharedErrorGrace = 10.0

    /// Runs `body` on every rank. An error for which `shared` gives an exit status is expected on every
    /// rank (it follows a collective): rank 0 prints it and every rank exits with that status. Should the
    /// other ranks go on all the same (the error was this rank's alone), this rank prints it with its rank
    /// after `sharedErrorGrace` seconds and aborts the job, so that no rank waits forever. Any other error
    /// is this rank's alone: it is printed with the rank and the whole job is aborted at once.
    func run<T>(shared: (Error) -> Int32?, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            if let code = shared(error) {
                if comm.isRoot { printError("error: \(error)") }
                let rank = comm.rank, isRoot = comm.isRoot, message = "\(error)"
                comm.finalize(orAbortAfter: Self.sharedErrorGrace, code: code) {
                    printError(
                        "error: rank \(rank): \(isRoot ? "" : message + "; ")the other ranks went on without this rank; aborting the job")
                }
                throw ExitCode(code)
            }
            printError("error: rank \(comm.rank): \(error)")
            comm.abort(code: ExitStatus.failed.rawValue)
        }
    }
}
