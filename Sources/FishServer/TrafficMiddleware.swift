import FishServices
import Hummingbird

/// Counts every classification request in the traffic window: how it ended (the API error's code
/// for a failure) and how long it took from its arrival to its answer.
struct TrafficMiddleware<Context: RequestContext>: RouterMiddleware {
    let traffic: TrafficWindow

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        guard request.method == .post, request.uri.path.hasPrefix("/v1/classify") else { return try await next(request, context) }
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            traffic.record(
                TrafficWindow.Outcome(status: response.status.code, code: "http_\(response.status.code)"),
                latency: ContinuousClock.now - start)
            return response
        } catch let error as APIError {
            traffic.record(
                TrafficWindow.Outcome(status: error.status.code, code: error.code), latency: ContinuousClock.now - start)
            throw error
        } catch let error as HTTPError {
            traffic.record(
                TrafficWindow.Outcome(status: error.status.code, code: "http_\(error.status.code)"),
                latency: ContinuousClock.now - start)
            throw error
        } catch {
            traffic.record(.error("internal"), latency: ContinuousClock.now - start)
            throw error
        }
    }
}
