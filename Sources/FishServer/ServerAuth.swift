import Crypto
import Foundation
import Hummingbird

/// Bearer tokens for `fishops serve`: one for inference, and optionally one for admin routes
/// (which also grants inference). Tokens are kept only as SHA-256 digests, compared in constant
/// time, and never logged or echoed.
public struct ServerAuth: Sendable {
    /// What a route needs.
    enum Scope: Sendable { case inference, admin }

    private let inference: [UInt8]
    private let admin: [UInt8]?

    /// `inferenceToken` opens the inference routes; `adminToken`, when given, opens every route.
    public init(inferenceToken: String, adminToken: String? = nil) throws(ServerAuthError) {
        guard !inferenceToken.isEmpty, adminToken?.isEmpty != true else { throw .emptyToken }
        inference = Self.digest(inferenceToken)
        admin = adminToken.map(Self.digest)
    }

    /// Reads a token from a file (surrounding whitespace trimmed).
    public static func token(fromFile path: String) throws(ServerAuthError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadableFile(path) }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw .emptyFile(path) }
        return token
    }

    /// Whether `path` is one an orchestrator or a scraper polls without credentials.
    static func scope(ofPath path: String, protectMetrics: Bool) -> Scope? {
        switch path {
        case "/", "/healthz", "/readyz": return nil
        case "/metrics": return protectMetrics ? .inference : nil
        default: return path.hasPrefix("/v1/admin/") ? .admin : .inference
        }
    }

    /// Whether the `Authorization` header grants `scope`.
    func allows(_ authorization: String?, scope: Scope) -> Bool {
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else { return false }
        let presented = Self.digest(String(authorization.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces))
        let isAdmin = admin.map { Self.equal($0, presented) } ?? false
        switch scope {
        case .admin: return isAdmin
        case .inference: return Self.equal(inference, presented) || isAdmin
        }
    }

    private static func digest(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Data(token.utf8))) }

    /// Equal digests, in time that does not depend on where they differ.
    private static func equal(_ first: [UInt8], _ second: [UInt8]) -> Bool {
        guard first.count == second.count else { return false }
        return zip(first, second).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Why the server's tokens could not be set up.
public enum ServerAuthError: Error, CustomStringConvertible {
    case emptyToken
    case unreadableFile(String)
    case emptyFile(String)

    public var description: String {
        switch self {
        case .emptyToken: return "a token must not be empty"
        case let .unreadableFile(path): return "\(path): cannot read the token file"
        case let .emptyFile(path): return "\(path): the token file is empty"
        }
    }
}

/// Answers 401 (no or wrong token) or 403 (an inference token on an admin route) before a
/// protected route runs.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let auth: ServerAuth
    let protectMetrics: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        guard let scope = ServerAuth.scope(ofPath: request.uri.path, protectMetrics: protectMetrics) else {
            return try await next(request, context)
        }
        let authorization = request.headers[.authorization]
        if auth.allows(authorization, scope: scope) { return try await next(request, context) }
        if scope == .admin, auth.allows(authorization, scope: .inference) {
            throw APIError(status: .forbidden, code: "forbidden", message: "this route needs the admin token")
        }
        var error = APIError(
            status: .unauthorized, code: "unauthorized",
            message: "send the server's token as 'Authorization: Bearer TOKEN'")
        error.wwwAuthenticate = "Bearer"
        throw error
    }
}
