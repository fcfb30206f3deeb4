import FishServices
import Foundation
public import Hummingbird

/// An API failure answered as `{"error":{"code","message"}}` with its HTTP status
/// (and `Retry-After` when the client should simply try again later).
public struct APIError: HTTPResponseError, Encodable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    var retryAfterSeconds: Int?
    /// The `WWW-Authenticate` challenge of a 401.
    var wwwAuthenticate: String?

    static let notReady = APIError(status: .serviceUnavailable, code: "not_ready", message: "no model is loaded yet")
    static let draining = APIError(
        status: .serviceUnavailable, code: "draining", message: "the server is stopping; send new requests elsewhere")
    static let overloaded = APIError(
        status: .serviceUnavailable, code: "overloaded",
        message: "the inference queue is full; retry shortly", retryAfterSeconds: 1)

    /// The model answered NaN or infinity: its weights are broken, and no answer is better than a wrong one.
    static func nonFiniteOutput(_ model: LoadedModel) -> APIError {
        APIError(status: .internalServerError, code: "non_finite_output", message: model.nonFiniteMessage)
    }

    /// The `{"code","message"}` object, also used for one image's failure inside a batch answer.
    var body: [String: String] { ["code": code, "message": message] }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(body)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        if let wwwAuthenticate { headers[.wwwAuthenticate] = wwwAuthenticate }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body = try encoder.encode(["error": self.body])
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension APIError {
    /// An upload that cannot be a model's input: 422 for an image too large, misshapen or corrupt,
    /// 415 for anything that is not a JPEG or PNG.
    init(_ error: ImageInputError) {
        switch error.kind {
        case .tooManyPixels: self.init(status: .unprocessableContent, code: "too_many_pixels", message: error.message)
        case .badShape: self.init(status: .unprocessableContent, code: "bad_shape", message: error.message)
        case .corrupt: self.init(status: .unprocessableContent, code: "corrupt_image", message: error.message)
        case .unsupported: self.init(status: .unsupportedMediaType, code: "unsupported_image", message: error.message)
        }
    }
}

/// Turns every failure into the API's JSON error response here, so the metrics middleware around
/// it records errors like any other answer; a known path asked with the wrong method is 405.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The method each route path answers.
    let methods: [String: HTTPRequest.Method]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            var apiError = APIError(
                status: error.status, code: error.status == .notFound ? "not_found" : "http_\(error.status.code)",
                message: error.body ?? error.status.reasonPhrase)
            if error.status == .notFound, let allowed = methods[request.uri.path], allowed != request.method {
                apiError = APIError(
                    status: .methodNotAllowed, code: "method_not_allowed",
                    message: "\(request.uri.path) answers \(allowed.rawValue) only")
                var response = try apiError.response(from: request, context: context)
                response.headers[.allow] = allowed.rawValue
                return response
            }
            return try apiError.response(from: request, context: context)
        }
    }
}
