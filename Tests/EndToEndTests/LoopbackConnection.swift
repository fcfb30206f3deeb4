import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A raw TCP connection to a port on 127.0.0.1, for sending requests slowly or not at all, and for
/// seeing exactly what happens to a kept-alive connection.
final class LoopbackConnection: @unchecked Sendable {
    enum Failure: Error, CustomStringConvertible {
        case connect(Int32)

        var description: String {
            switch self {
            case let .connect(code): return "connect failed: \(String(cString: strerror(code)))"
            }
        }
    }

    private let socket: Int32

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else {
            close(socket)
            throw Failure.connect(errno)
        }
    }

    deinit { close(socket) }

    /// Sends `text`; false once the server has closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Sends `bytes`; false once the server has closed the connection.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// One response as it came off the wire.
    struct Response {
        let status: Int
        /// Header fields, names lowercased.
        let headers: [String: String]
        let body: [UInt8]
    }

    /// Sends one request on this (kept-alive) connection and reads its whole response; nil when the
    /// connection closed or failed before a complete response arrived (what a client sees as a reset).
    /// It blocks: call it from a thread of its own (`offPool`, `onThreads`).
    func exchange(method: String, path: String, body: [UInt8] = [], timeout: Duration = .seconds(30)) -> Response? {
        let head =
            "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: \(body.count)\r\n\r\n"
        guard send(Array(head.utf8) + body) else { return nil }
        let deadline = ContinuousClock.now + timeout
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while ContinuousClock.now < deadline {
            if let response = Self.response(in: received) { return response }
            var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let count = recv(socket, &buffer, buffer.count, 0)
            guard count > 0 else { return Self.response(in: received) }
            received.append(contentsOf: buffer[0..<count])
        }
        return nil
    }

    /// The first complete non-informational response at the start of `bytes`.
    private static func response(in bytes: [UInt8]) -> Response? {
        var start = 0
        while true {
            guard let end = bytes[start...].firstRange(of: [13, 10, 13, 10])?.lowerBound else { return nil }
            let lines = String(decoding: bytes[start..<end], as: UTF8.self).components(separatedBy: "\r\n")
            guard let status = lines.first.flatMap({ Int($0.split(separator: " ").dropFirst().first ?? "") }) else { return nil }
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let bodyStart = end + 4
            if (100..<200).contains(status) {
                start = bodyStart
                continue
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            guard bytes.count - bodyStart >= length else { return nil }
            return Response(status: status, headers: headers, body: Array(bytes[bodyStart..<bodyStart + length]))
        }
    }

    /// Everything the server sends until it closes the connection or `timeout` passes, and
    /// whether it closed the connection. It blocks, like `exchange`.
    func receive(timeout: Duration) -> (text: String, closed: Bool) {
        let deadline = ContinuousClock.now + timeout
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let left = deadline - ContinuousClock.now
            let milliseconds = Int32(max(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000, 1))
            guard poll(&poller, 1, milliseconds) > 0 else { continue }
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { return (String(decoding: received, as: UTF8.self), true) }
            received.append(contentsOf: buffer[0..<count])
        }
        return (String(decoding: received, as: UTF8.self), false)
    }
}

/// `body(0..<count)` each on a thread of its own, all started at once (blocking socket calls on
/// the cooperative pool would stall every other test in the process); their results in order.
func onThreads<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) async -> [T] {
    await offPool { (0..<count).map { index in Spawned { body(index) } }.map(\.value) }
}

/// `body`, started now on a thread of its own; `value` waits for what it returned. A test whose
/// steps must follow each other closely (a signal while a request is in flight, a count within
/// the last minute) runs them on such threads: the cooperative pool, which the other tests in the
/// process may keep busy for a minute, then cannot put a pause between them.
final class Spawned<T: Sendable>: Sendable {
    private let result = Mutex<T?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () -> T) {
        Thread { [self] in
            let value = body()
            result.withLock { $0 = value }
            finished.signal()
        }.start()
    }

    /// What `body` returned, once it has.
    var value: T {
        finished.wait()
        finished.signal()
        return result.withLock { $0 }!
    }
}

/// `body` on a thread of its own (see `onThreads`).
func offPool<T: Sendable, Failure: Error>(_ body: @escaping @Sendable () throws(Failure) -> T) async throws(Failure) -> T {
    let result: Result<T, Failure> = await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: Result { () throws(Failure) -> T in try body() }) }.start()
    }
    return try result.get()
}

/// A loopback port the system just handed out and that nothing holds now.
func freeLoopbackPort() throws -> Int {
    let (socket, port) = try boundLoopbackSocket()
    close(socket)
    return port
}

/// A server that accepts connections (into the kernel's backlog) and never answers.
final class SilentListener: Sendable {
    let port: Int
    private let socket: Int32

    init() throws {
        (socket, port) = try boundLoopbackSocket()
        listen(socket, 16)
    }

    deinit { close(socket) }
}

/// A TCP socket bound to a free port on 127.0.0.1.
private func boundLoopbackSocket() throws -> (socket: Int32, port: Int) {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
        }
    }
    guard bound else {
        close(socket)
        throw LoopbackConnection.Failure.connect(errno)
    }
    return (socket, Int(UInt16(bigEndian: address.sin_port)))
}
