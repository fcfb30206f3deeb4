import Foundation
import HTTPTypes
import Hummingbird
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A router served by a real Hummingbird application on a free loopback port for the length of
/// a test, and a client that talks to it over real connections (URLSession, which is libcurl here).
struct LoopbackClient: Sendable {
    /// One answer: status, headers, body.
    struct Response: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: ByteBuffer
    }

    /// The port the application listens on (optional, as tests unwrap it with `#require`).
    let port: Int?

    /// Serves `router` on 127.0.0.1 while `body` runs, then stops the application.
    static func serve(_ router: Router<BasicRequestContext>, _ body: @Sendable (LoopbackClient) async throws -> Void) async throws
    {
        let (ports, announce) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in announce.yield(channel.localAddress?.port ?? 0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            var iterator = ports.makeAsyncIterator()
            let port = await iterator.next()
            defer { group.cancelAll() }
            try await body(LoopbackClient(port: port))
        }
    }

    /// Sends one request and returns the answer.
    func execute(uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil) async throws
        -> Response
    {
        let port = try #require(port)
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)\(uri)")))
        request.httpMethod = method.rawValue
        for field in headers { request.addValue(field.value, forHTTPHeaderField: field.name.rawName) }
        if let body { request.httpBody = Data(body.readableBytesView) }
        let (data, answer) = try await URLSession.shared.data(for: request)
        let http = try #require(answer as? HTTPURLResponse)
        var fields = HTTPFields()
        for case let (name as String, value as String) in http.allHeaderFields {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        return Response(status: HTTPResponse.Status(code: http.statusCode), headers: fields, body: ByteBuffer(bytes: data))
    }

    /// Sends one request and checks its answer with `check`.
    func execute(
        uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil,
        _ check: (Response) throws -> Void
    ) async throws {
        try check(try await execute(uri: uri, method: method, headers: headers, body: body))
    }
}
