import CCurl
import Foundation

/// One request as libcurl performs it (see `fish_curl_perform`).
struct HTTPTransfer {
    var method: String
    var url: String
    var body: Data?
    var contentType: String?
    var uploadPath: String?
    var downloadPath: String?

    init(
        method: String, url: String, body: Data? = nil, contentType: String? = nil, uploadPath: String? = nil,
        downloadPath: String? = nil
    ) {
        (self.method, self.url, self.body, self.contentType) = (method, url, body, contentType)
        (self.uploadPath, self.downloadPath) = (uploadPath, downloadPath)
    }

    /// `url` without the user and password it may carry, for messages.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.user != nil || components.password != nil else {
            return url
        }
        components.user = nil
        components.password = nil
        return components.string ?? url
    }

    func run(with client: HTTPClient) throws(HTTPClientError) -> HTTPReply {
        let strings = CStrings()
        var fields = client.headers
        if let contentType { fields["Content-Type"] = contentType }
        let headerLines: [UnsafePointer<CChar>?] = fields.sorted { $0.key < $1.key }.map {
            strings.keep("\($0.key): \($0.value)")
        }
        var request = fish_curl_request()
        request.url = strings.keep(url)
        request.method = strings.keep(method)
        request.upload_path = uploadPath.map(strings.keep)
        request.download_path = downloadPath.map(strings.keep)
        request.max_body_bytes = client.maxReplyBytes
        let streamsFile = uploadPath != nil || downloadPath != nil
        request.timeout_ms = streamsFile ? 0 : Self.milliseconds(client.timeout)
        request.connect_timeout_ms = Self.milliseconds(client.connectTimeout)
        request.stall_seconds = streamsFile ? max(Self.milliseconds(client.stallTimeout) / 1000, 1) : 0
        request.verify_tls = client.verifiesTLS ? 1 : 0
        switch client.credentials {
        case let .bearer(token): request.bearer_token = strings.keep(token)
        case let .basic(user, password):
            (request.basic_user, request.basic_password) = (strings.keep(user), strings.keep(password))
        case nil: break
        }
        var response = fish_curl_response()
        defer { fish_curl_response_free(&response) }
        let outcome = headerLines.withUnsafeBufferPointer { lines in
            request.headers = UnsafePointer(lines.baseAddress)
            request.header_count = Int32(lines.count)
            guard let body else { return fish_curl_perform(&request, &response) }
            return body.withUnsafeBytes { bytes in
                request.body = bytes.baseAddress ?? UnsafeRawPointer(strings.keep(""))
                request.body_length = bytes.count
                return fish_curl_perform(&request, &response)
            }
        }
        return try reply(outcome: outcome, response: response, client: client)
    }

    private func reply(outcome: Int32, response: fish_curl_response, client: HTTPClient) throws(HTTPClientError) -> HTTPReply {
        let shown = Self.redacted(url)
        let reason = withUnsafeBytes(of: response.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        switch Int(outcome) {
        case Int(FISH_CURL_OK.rawValue):
            break
        case Int(FISH_CURL_TOO_LARGE.rawValue):
            throw .tooLarge(method: method, url: shown, limit: client.maxReplyBytes)
        case Int(FISH_CURL_FILE.rawValue):
            throw .file(method: method, url: shown, reason: reason)
        case Int(FISH_CURL_MEMORY.rawValue):
            throw .interrupted(method: method, url: shown, reason: "out of memory")
        default:
            if response.curl_code == fish_curl_code_timed_out() { throw .timedOut(method: method, url: shown, reason: reason) }
            // A reply that arrived and then failed (a cut body) still counts as reaching the server.
            if response.status == 0 { throw .unreachable(method: method, url: shown, reason: reason) }
            throw .interrupted(method: method, url: shown, reason: "after HTTP \(response.status): \(reason)")
        }
        let body = response.body.map { Data(bytes: $0, count: response.body_length) } ?? Data()
        let headerText =
            response.headers.map { String(decoding: Data(bytes: $0, count: response.headers_length), as: UTF8.self) } ?? ""
        return HTTPReply(
            status: Int(response.status), headers: Self.fields(headerText), body: body, downloaded: response.downloaded)
    }

    /// The fields of a header block, names lowercased (a repeated field keeps its last value).
    static func fields(_ block: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in block.split(whereSeparator: \.isNewline).dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}

/// C copies of strings, freed together.
private final class CStrings {
    private var pointers: [UnsafeMutablePointer<CChar>] = []

    func keep(_ text: String) -> UnsafePointer<CChar> {
        let pointer: UnsafeMutablePointer<CChar>
        if let copy = strdup(text) {
            pointer = copy
        } else {  // out of memory: an empty string (the request then fails plainly)
            pointer = .allocate(capacity: 1)
            pointer.initialize(to: 0)
        }
        pointers.append(pointer)
        return UnsafePointer(pointer)
    }

    deinit { pointers.forEach { free($0) } }
}
