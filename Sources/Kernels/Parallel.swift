import COpenBLAS
import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// Spreads a kernel's element-wise or row-wise work over the threads this rank may use.
///
/// The thread budget is OpenBLAS's (`OPENBLAS_NUM_THREADS`, which the launcher sets to cores per
/// rank), so a rank never uses more cores for its element-wise work than for its matrix products.
/// Work is split into contiguous, disjoint ranges and every element is computed by exactly the same
/// arithmetic as a serial loop would, so results are bit-identical whatever the thread count.
public enum Parallel {
    /// Threads the element-wise kernels may use: the OpenBLAS thread count.
    @inlinable public static var workers: Int { Int(openblas_get_num_threads()) }

    /// Most workers any call can use (the processors online), for sizing per-worker scratch.
    public static let maximumWorkers: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// Calls `body` on disjoint ranges covering `0..<count`, in parallel when there is enough work.
    ///
    /// - minimumPerWorker: the smallest range worth a thread (in the caller's units: elements or
    ///   rows); below `2 × minimumPerWorker` the call runs serially on the caller's thread.
    @inlinable
    public static func forRanges(_ count: Int, minimumPerWorker: Int, _ body: (Range<Int>) -> Void) {
        let n = min(workers, maximumWorkers, count / max(1, minimumPerWorker))
        if n <= 1 {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: n) { w in
            body((count * w / n)..<(count * (w + 1) / n))
        }
    }

    /// Calls `body(task, worker)` for every task in `0..<tasks`, spread over the workers, with OpenBLAS
    /// limited to one thread meanwhile: many small matrix products (one per attention head) run
    /// better side by side than each split over threads. `worker` indexes per-worker scratch
    /// (`0..<maximumWorkers`).
    @inlinable
    public static func forTasks(_ tasks: Int, _ body: (_ task: Int, _ worker: Int) -> Void) {
        let n = min(workers, maximumWorkers, tasks)
        if n <= 1 {
            for t in 0..<tasks { body(t, 0) }
            return
        }
        let saved = workers
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(saved)) }
        DispatchQueue.concurrentPerform(iterations: n) { w in
            var t = tasks * w / n
            let end = tasks * (w + 1) / n
            while t < end {
                body(t, w)
                t += 1
            }
        }
    }
}
