public import Foundation

/// A reply with a 2xx status.
public struct HTTPReply: Sendable {
    public let status: Int
    /// Header fields of the last response (after redirects), names lowercased.
    public let headers: [String: String]
    /// The body (empty for downloads to a file).
    public let body: Data
    /// Bytes written to the file of a download.
    public let downloaded: Int

    /// The body decoded as JSON.
    public func json<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws(HTTPClientError) -> T {
        do { return try decoder.decode(type, from: body) } catch {
            throw .badReply(reason: "the reply is not the JSON expected (\(error)): \(Self.excerpt(body))")
        }
    }

    /// A short, printable excerpt of a reply's body.
    static func excerpt(_ body: Data) -> String {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
            .unicodeScalars.map { CharacterSet.controlCharacters.contains($0) ? " " : String($0) }.joined()
        return body.count > 300 ? text + "..." : text
    }

    /// What an error reply says: its JSON `message` (or MLflow's `error_code` and `message`), else
    /// an excerpt of its body.
    func errorMessage(downloadedTo path: String?) -> String {
        let body = path.flatMap { FileHandle(forReadingAtPath: $0).flatMap { try? $0.read(upToCount: 4096) } } ?? self.body
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            let message = object["message"] as? String ?? (object["error"] as? [String: Any])?["message"] as? String
            let code =
                object["error_code"] as? String ?? object["code"] as? String ?? (object["error"] as? [String: Any])?["code"]
                as? String
            if let message { return code.map { "\($0): \(message)" } ?? message }
        }
        return Self.excerpt(body)
    }
}

/// Why a request failed. Every case names the request (method and URL, credentials removed).
public enum HTTPClientError: Error, Equatable, CustomStringConvertible {
    case badURL(String)
    /// No connection: refused, name not found, TLS refused.
    case unreachable(method: String, url: String, reason: String)
    case timedOut(method: String, url: String, reason: String)
    /// The transfer broke off after the server began to answer.
    case interrupted(method: String, url: String, reason: String)
    /// The server answered outside 2xx.
    case status(method: String, url: String, code: Int, message: String)
    case tooLarge(method: String, url: String, limit: Int)
    /// A file to upload or download to could not be used.
    case file(method: String, url: String, reason: String)
    /// A 2xx reply that is not what the caller expected.
    case badReply(reason: String)

    public var description: String {
        switch self {
        case let .badURL(url): return "\(url) is not an http:// or https:// URL"
        case let .unreachable(method, url, reason): return "\(method) \(url): cannot reach the server (\(reason))"
        case let .timedOut(method, url, reason): return "\(method) \(url): timed out (\(reason))"
        case let .interrupted(method, url, reason): return "\(method) \(url): the transfer broke off (\(reason))"
        case let .status(method, url, code, message):
            return "\(method) \(url): HTTP \(code)\(message.isEmpty ? "" : ": \(message)")"
        case let .tooLarge(method, url, limit): return "\(method) \(url): the reply is larger than \(limit) bytes"
        case let .file(method, url, reason): return "\(method) \(url): \(reason)"
        case let .badReply(reason): return reason
        }
    }

    /// The HTTP status, when the server answered outside 2xx.
    public var statusCode: Int? {
        if case let .status(_, _, code, _) = self { return code }
        return nil
    }
}
