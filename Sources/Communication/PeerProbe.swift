import Core
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Tells which ranks' hosts still answer, so that a rank stuck in a collective can name the rank and
/// host the job lost instead of only saying that it waits.
///
/// MPI itself cannot say: a blocked collective over TCP waits forever for a peer whose link is down
/// (no data in flight, so TCP notices nothing). So every rank listens on an ephemeral TCP port (a
/// thread accepts and closes connections) and learns once, at start-up, every rank's hostname, IPv4
/// addresses and port. `silentPeers` then opens a TCP connection to every other rank: a peer whose
/// host completes no handshake in time is lost (link or host down); one whose port refuses the
/// connection has lost its process. It sends a few packets per peer and only when asked (by the
/// watchdog, after a collective stalled), never during normal training.
public final class PeerProbe: @unchecked Sendable {
    /// One rank as the others reach it.
    public struct Peer: Sendable, Equatable {
        public let rank: Int
        /// The host's name (`gethostname`).
        public let host: String
        /// The host's non-loopback IPv4 addresses (loopback when it has none).
        public let addresses: [String]
        /// The rank's listening port; 0 when it could not listen (then it is never called silent).
        public let port: UInt16
    }

    /// A peer that did not answer, and why, in words.
    public struct Silence: Sendable {
        public let peer: Peer
        public let reason: String
    }

    /// Every rank of the job, in rank order (this rank included).
    public let peers: [Peer]
    private let rank: Int

    /// Opens this rank's port and exchanges every rank's host, addresses and port: a collective, so
    /// every rank calls it at the same point.
    public init(communicator: any Collectives) {
        rank = communicator.rank
        let port = PeerProbe.listen()
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        let mine = "\(String(cString: name))\n\(port)\n" + PeerProbe.localAddresses().joined(separator: ",")
        var all: [Peer] = []
        for root in 0..<communicator.size {
            let bytes = communicator.broadcast(root == rank ? Array(mine.utf8) : [], root: root)
            let fields = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            all.append(
                Peer(
                    rank: root, host: fields.count > 0 ? String(fields[0]) : "?",
                    addresses: fields.count > 2 ? fields[2].split(separator: ",").map(String.init) : [],
                    port: fields.count > 1 ? UInt16(fields[1]) ?? 0 : 0))
        }
        peers = all
    }

    /// The other ranks that did not accept a TCP connection within `timeout` seconds (all tried at once).
    public func silentPeers(timeout: Double) -> [Silence] {
        struct Attempt {
            let peer: Int
            let fd: Int32
            var outcome: Int32?
        }  // outcome: 0 = answered, else errno
        var attempts: [Attempt] = []
        for p in peers where p.rank != rank && p.port != 0 {
            for address in p.addresses {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                guard fd >= 0 else { continue }
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                var sa = sockaddr_in()
                sa.sin_family = sa_family_t(AF_INET)
                sa.sin_port = p.port.bigEndian
                guard inet_pton(AF_INET, address, &sa.sin_addr) == 1 else {
                    close(fd)
                    continue
                }
                let rc = withUnsafePointer(to: &sa) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                attempts.append(Attempt(peer: p.rank, fd: fd, outcome: rc == 0 ? 0 : errno == EINPROGRESS ? nil : errno))
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while attempts.contains(where: { $0.outcome == nil }), Date() < deadline {
            var fds = attempts.filter { $0.outcome == nil }.map { pollfd(fd: $0.fd, events: Int16(POLLOUT), revents: 0) }
            let ms = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&fds, nfds_t(fds.count), ms) > 0 else { continue }
            for f in fds where f.revents != 0 {
                var err: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(f.fd, SOL_SOCKET, SO_ERROR, &err, &len)
                if let i = attempts.firstIndex(where: { $0.fd == f.fd }) { attempts[i].outcome = err }
            }
        }
        for a in attempts { close(a.fd) }
        var silent: [Silence] = []
        for p in peers where p.rank != rank && p.port != 0 {
            let outcomes = attempts.filter { $0.peer == p.rank }.map(\.outcome)
            if outcomes.contains(where: { $0 == 0 }) { continue }
            let reason =
                outcomes.contains(where: { $0 == ECONNREFUSED })
                ? "its host answers but its process is gone (connection refused)"
                : outcomes.contains(where: { $0 == nil })
                    ? String(format: "its host did not answer within %.0f s (link or host down)", timeout)
                    : "its host is unreachable (\(outcomes.compactMap { $0 }.map { String(cString: strerror($0)) }.first ?? "no address"))"
            silent.append(Silence(peer: p, reason: reason))
        }
        return silent
    }

    /// "rank R on host H (A, B)" for messages.
    public static func describe(_ p: Peer) -> String {
        "rank \(p.rank) on host \(p.host) (\(p.addresses.joined(separator: ", ")))"
    }

    /// Listens on an ephemeral port of every interface and accepts (and closes) connections on a
    /// background thread. Returns the port, or 0 if no socket could be opened.
    private static func listen() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return 0 }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_addr.s_addr = INADDR_ANY
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && Glibc.listen(fd, 16) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else {
            close(fd)
            return 0
        }
        let thread = Thread {
            while true {
                let c = accept(fd, nil, nil)
                if c >= 0 { close(c) } else if errno != EINTR { return }
            }
        }
        thread.name = "sift-peer-probe"
        thread.start()
        return UInt16(bigEndian: sa.sin_port)
    }

    /// This host's IPv4 addresses on interfaces that are up, loopback only if there is nothing else.
    private static func localAddresses() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return ["127.0.0.1"] }
        defer { freeifaddrs(list) }
        var out: [String] = []
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            let flags = Int32(entry.pointee.ifa_flags)
            guard let addr = entry.pointee.ifa_addr, addr.pointee.sa_family == sa_family_t(AF_INET),
                flags & Int32(IFF_UP) != 0, flags & Int32(IFF_LOOPBACK) == 0
            else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                var a = sin.pointee.sin_addr
                _ = inet_ntop(AF_INET, &a, &text, socklen_t(text.count))
            }
            let s = String(cString: text)
            if !out.contains(s) { out.append(s) }
        }
        return out.isEmpty ? ["127.0.0.1"] : out
    }
}
