/// Messages between the ranks of one job, for work that is not a collective step of training: ranks
/// that each produce a share and hand it to rank 0 (`sift prepare` under mpirun). Communication's
/// `Communicator` provides it over MPI; only the thread that started MPI may call it.
public protocol RankMessaging: AnyObject {
    /// This process's rank in `0..<size`.
    var rank: Int { get }
    /// Number of ranks in the job.
    var size: Int { get }
    /// Starts sending `bytes` to rank `to` under `tag` and returns at once; the send is done when the
    /// handle says so (the caller keeps polling it, so that it can watch for other messages meanwhile).
    func startSend(_ bytes: [UInt8], to: Int, tag: Int32) -> PendingSend
    /// Whether a message from rank `from` under `tag` is waiting to be received.
    func hasMessage(from: Int, tag: Int32) -> Bool
    /// The next message from rank `from` under `tag`, waiting for it without spinning a core.
    func receive(from: Int, tag: Int32) -> [UInt8]
    /// `bytes` of rank `root` on every rank (a collective: every rank calls it).
    func broadcast(_ bytes: [UInt8], root: Int) -> [UInt8]
}
