import FishServices
import Foundation
import Hummingbird

/// An API failure answered as `{"error":{"code","message"}}` with its HTTP status
/// (and `Retry-After` when the client should simply try again later).
struct APIError: HTTPResponseError, Encodable {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var retryAfterSeconds: Int?

    static let notReady = APIError(status: .serviceUnavailable, code: "not_ready", message: "no model is loaded yet")
    static let overloaded = APIError(status: .serviceUnavailable, code: "overloaded",
                                     message: "the inference queue is full; retry shortly", retryAfterSeconds: 1)

    /// The model answered NaN or infinity: its weights are broken, and no answer is better than a wrong one.
    static func nonFiniteOutput(_ model: LoadedModel) -> APIError {
        APIError(status: .internalServerError, code: "non_finite_output", message: model.nonFiniteMessage)
    }

    /// The `{"code","message"}` object, also used for one image's failure inside a batch answer.
    var body: [String: String] { ["code": code, "message": message] }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(body)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body = try encoder.encode(["error": self.body])
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Answers Hummingbird's own errors (an unknown route, say) in the API's JSON error form.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            throw APIError(status: error.status, code: error.status == .notFound ? "not_found" : "http_\(error.status.code)",
                           message: error.body ?? error.status.reasonPhrase)
        }
    }
}
