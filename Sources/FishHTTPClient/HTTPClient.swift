import CCurl
public import Foundation

/// FishOps' one HTTP client, on libcurl: JSON and byte bodies, uploads streamed from files,
/// downloads streamed to files, timeouts, TLS verified by default, Bearer or Basic credentials,
/// and the proxy from the environment (`http_proxy`, `https_proxy`, `no_proxy`, as libcurl reads
/// them). Calls block the calling thread: call them off the UI thread and off the cooperative pool.
public struct HTTPClient: Sendable {
    /// How requests authenticate.
    public enum Credentials: Sendable {
        case bearer(String)
        case basic(user: String, password: String)
    }

    public var credentials: Credentials?
    /// Longest a request with its body in memory may take, from connecting to the last byte.
    public var timeout: Duration = .seconds(30)
    /// Longest connecting may take.
    public var connectTimeout: Duration = .seconds(10)
    /// Uploads and downloads of files have no overall limit; they fail once no byte has moved for this long.
    public var stallTimeout: Duration = .seconds(30)
    /// Whether the server's certificate and host name are checked (turn off only for a known test server).
    public var verifiesTLS = true
    /// Largest reply body kept in memory (`HTTPClientError.tooLarge` above it); downloads to files have no cap.
    public var maxReplyBytes = 64 * 1024 * 1024
    /// Header fields sent with every request.
    public var headers: [String: String] = [:]

    public init(credentials: Credentials? = nil) {
        self.credentials = credentials
    }

    /// `GET url`.
    public func get(_ url: String) throws(HTTPClientError) -> HTTPReply {
        try perform(HTTPTransfer(method: "GET", url: url))
    }

    /// `DELETE url`.
    public func delete(_ url: String) throws(HTTPClientError) -> HTTPReply {
        try perform(HTTPTransfer(method: "DELETE", url: url))
    }

    /// `method url` with `body`.
    public func send(_ method: String, _ url: String, body: Data, contentType: String) throws(HTTPClientError) -> HTTPReply {
        try perform(HTTPTransfer(method: method, url: url, body: body, contentType: contentType))
    }

    /// `method url` with `value` as a JSON body.
    public func send(_ method: String, _ url: String, json value: some Encodable) throws(HTTPClientError) -> HTTPReply {
        let body: Data
        do { body = try JSONEncoder().encode(value) } catch {
            throw .file(method: method, url: HTTPTransfer.redacted(url), reason: "cannot encode the JSON body: \(error)")
        }
        return try send(method, url, body: body, contentType: "application/json")
    }

    /// `method url` with the contents of `file` as the body, streamed from disk.
    public func upload(
        _ file: URL, to url: String, method: String = "PUT",
        contentType: String = "application/octet-stream"
    ) throws(HTTPClientError) -> HTTPReply {
        try perform(HTTPTransfer(method: method, url: url, contentType: contentType, uploadPath: file.path))
    }

    /// Streams the body of `GET url` to `file`, which appears (replaced) only once the whole body
    /// has arrived. Returns the number of bytes.
    @discardableResult
    public func download(_ url: String, to file: URL) throws(HTTPClientError) -> Int {
        let partial = file.deletingLastPathComponent().appendingPathComponent(
            ".\(file.lastPathComponent).partial-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: partial) }
        let reply = try perform(HTTPTransfer(method: "GET", url: url, downloadPath: partial.path))
        guard rename(partial.path, file.path) == 0 else {
            throw .file(
                method: "GET", url: HTTPTransfer.redacted(url),
                reason: "cannot write \(file.path): \(String(cString: strerror(errno)))")
        }
        return reply.downloaded
    }

    /// Runs one transfer; a reply outside 2xx is `HTTPClientError.status`.
    private func perform(_ transfer: HTTPTransfer) throws(HTTPClientError) -> HTTPReply {
        guard let components = URLComponents(string: transfer.url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", components.host?.isEmpty == false
        else {
            throw .badURL(HTTPTransfer.redacted(transfer.url))
        }
        let reply = try transfer.run(with: self)
        guard (200..<300).contains(reply.status) else {
            throw .status(
                method: transfer.method, url: HTTPTransfer.redacted(transfer.url), code: reply.status,
                message: reply.errorMessage(downloadedTo: transfer.downloadPath))
        }
        return reply
    }
}
