import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The cores this process may run on, for sizing a pool of worker threads.
public enum AvailableCores {
    /// Cores this process may use: Foundation's count, which on Linux follows the CPU affinity (what
    /// `taskset` or mpirun's binding allow) and a cgroup's CPU quota.
    public static var count: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Threads for one of `localRanks` ranks started on the same node: all the cores in its affinity
    /// when mpirun bound it to some of them, else an even share of the node's cores (at least 1).
    public static func perRank(localRanks: Int) -> Int {
        let mine = count
        let online = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        guard localRanks > 1, mine >= online else { return mine }
        return max(1, online / localRanks)
    }
}
