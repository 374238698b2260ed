import CMPI
import Core
import Foundation

// Point-to-point messages between ranks (`RankMessaging`), as `sift prepare` sends token ids to rank 0.
extension Communicator: RankMessaging {
    /// Starts an `MPI_Isend` of `bytes` (kept alive by the handle until the send completes).
    public func startSend(_ bytes: [UInt8], to: Int, tag: Int32) -> PendingSend {
        let pending = PendingByteSend(bytes)
        pending.bytes.withUnsafeBufferPointer { buf in
            check(
                MPI_Isend(buf.baseAddress, Int32(buf.count), sift_mpi_byte(), Int32(to), tag, comm, &pending.request),
                "MPI_Isend")
        }
        return pending
    }

    public func hasMessage(from: Int, tag: Int32) -> Bool {
        var flag: Int32 = 0
        var status = MPI_Status()
        check(MPI_Iprobe(Int32(from), tag, comm, &flag, &status), "MPI_Iprobe")
        return flag != 0
    }

    /// Polls with `MPI_Iprobe`, sleeping between polls (`PollBackoff`: a blocking receive would spin a core
    /// the rank's worker threads need), then receives the message whole.
    public func receive(from: Int, tag: Int32) -> [UInt8] {
        var flag: Int32 = 0
        var status = MPI_Status()
        var backoff = PollBackoff()
        while true {
            check(MPI_Iprobe(Int32(from), tag, comm, &flag, &status), "MPI_Iprobe")
            if flag != 0 { break }
            backoff.sleep()
        }
        var count: Int32 = 0
        MPI_Get_count(&status, sift_mpi_byte(), &count)
        var out = [UInt8](repeating: 0, count: Int(count))
        out.withUnsafeMutableBufferPointer { buf in
            check(
                MPI_Recv(buf.baseAddress, count, sift_mpi_byte(), Int32(from), tag, comm, sift_mpi_status_ignore()),
                "MPI_Recv")
        }
        return out
    }
}

/// An `MPI_Isend` in flight with its buffer.
final class PendingByteSend: PendingSend {
    let bytes: [UInt8]
    var request: MPI_Request? = sift_mpi_request_null()
    private var done = false

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func isComplete() -> Bool {
        guard !done else { return true }
        var flag: Int32 = 0
        MPI_Test(&request, &flag, sift_mpi_status_ignore())
        done = flag != 0
        return done
    }
}
