import CMPI
import Foundation

// Gathers (every rank's data on every rank) and broadcasts (one rank's data on every rank).
extension Communicator {
    /// Gathers every rank's floats on every rank, in rank order. Ranks may contribute different counts.
    /// - Returns: the concatenation over ranks 0..<size.
    public func allgatherv(_ local: [Float]) -> [Float] {
        guard size > 1 else { return local }
        var counts = [Int32](repeating: 0, count: size)
        var mine = Int32(local.count)
        check(MPI_Allgather(&mine, 1, sift_mpi_int32(), &counts, 1, sift_mpi_int32(), comm), "MPI_Allgather")
        var displs = [Int32](repeating: 0, count: size)
        for i in 1..<size { displs[i] = displs[i - 1] + counts[i - 1] }
        let total = Int(displs[size - 1] + counts[size - 1])
        var out = [Float](repeating: 0, count: total)
        local.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                check(
                    MPI_Allgatherv(
                        src.baseAddress, mine, sift_mpi_float(), dst.baseAddress, counts, displs,
                        sift_mpi_float(), comm), "MPI_Allgatherv")
            }
        }
        return out
    }

    /// Gathers every rank's bytes on every rank, in rank order, when the counts are known everywhere
    /// (no count exchange first, unlike the float `allgatherv`).
    public func allgatherv(bytes local: [UInt8], counts: [Int]) -> [UInt8] {
        guard size > 1 else { return local }
        precondition(counts.count == size && local.count == counts[rank], "byte counts disagree with this rank's bytes")
        let n = counts.map { Int32($0) }
        var displs = [Int32](repeating: 0, count: size)
        for i in 1..<size { displs[i] = displs[i - 1] + n[i - 1] }
        var out = [UInt8](repeating: 0, count: counts.reduce(0, +))
        local.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                check(
                    MPI_Allgatherv(
                        src.baseAddress, n[rank], sift_mpi_byte(), dst.baseAddress, n, displs,
                        sift_mpi_byte(), comm), "MPI_Allgatherv")
            }
        }
        return out
    }

    /// Gathers one UInt64 from every rank on every rank (for replica checksums).
    public func allgather(_ value: UInt64) -> [UInt64] {
        guard size > 1 else { return [value] }
        var mine = value
        var out = [UInt64](repeating: 0, count: size)
        check(MPI_Allgather(&mine, 1, sift_mpi_uint64(), &out, 1, sift_mpi_uint64(), comm), "MPI_Allgather")
        return out
    }

    /// Broadcasts `count` floats from `root` to every rank, in chunks below MPI's Int32 count limit.
    public func broadcast(_ data: UnsafeMutablePointer<Float>, count: Int, root: Int = 0) {
        guard size > 1 else { return }
        var done = 0
        while done < count {
            let n = min(count - done, 1 << 28)
            check(MPI_Bcast(data + done, Int32(n), sift_mpi_float(), Int32(root), comm), "MPI_Bcast")
            done += n
        }
    }

    /// Broadcasts a byte string from `root`; other ranks pass anything and receive root's bytes.
    public func broadcast(_ bytes: [UInt8], root: Int = 0) -> [UInt8] {
        guard size > 1 else { return bytes }
        var n = Int64(bytes.count)
        check(MPI_Bcast(&n, 1, sift_mpi_int64(), Int32(root), comm), "MPI_Bcast")
        var out = rank == root ? bytes : [UInt8](repeating: 0, count: Int(n))
        out.withUnsafeMutableBufferPointer { buf in
            check(MPI_Bcast(buf.baseAddress, Int32(n), sift_mpi_byte(), Int32(root), comm), "MPI_Bcast")
        }
        return out
    }
}
