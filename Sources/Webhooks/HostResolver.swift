import Domain
import Foundation
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Resolves host names with the system resolver (as libcurl does), off the Swift executors: each lookup blocks one
/// thread of NIO's shared blocking pool, whose size is fixed, so a burst of lookups queues rather than starting a
/// thread each.
public enum HostResolver {
    /// Every address `host` resolves to (an address literal resolves to itself); empty if it does not resolve.
    public static func addresses(of host: String) async -> [NetworkAddress] {
        (try? await NIOThreadPool.singleton.runIfActive { resolve(host) }) ?? []
    }

    private static func resolve(_ host: String) -> [NetworkAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var found: [NetworkAddress] = []
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let entry = next {
            if let address = entry.pointee.ai_addr {
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                        let bytes = withUnsafeBytes(of: v4.pointee.sin_addr) { Array($0) }
                        if let value = NetworkAddress(bytes: bytes) { found.append(value) }
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                        let bytes = withUnsafeBytes(of: v6.pointee.sin6_addr) { Array($0) }
                        if let value = NetworkAddress(bytes: bytes) { found.append(value) }
                    }
                default: break
                }
            }
            next = entry.pointee.ai_next
        }
        var seen: Set<NetworkAddress> = []
        return found.filter { seen.insert($0).inserted }
    }
}
