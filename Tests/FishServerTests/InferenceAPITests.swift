import FishServer
import FishServices
import FishTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The inference API through Hummingbird's router test client.
@Suite(.enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"),
       .enabled(if: Fixtures.sharedAvailable, "needs ../shared/reference"))
struct InferenceAPITests {
    func api(limits: InferenceAPI.Limits = .init(), load: Bool = true) throws -> InferenceAPI {
        let context = try ServiceContext(config: FishConfig(home: try Fixtures.temporaryDirectory(), threads: 2))
        _ = try WeightsService(context: context).importImageNetWeights(path: Fixtures.weights.path)
        let api = InferenceAPI(context: context, model: FishConfig.baseModelName, alias: "production", limits: limits)
        if load { _ = try api.reload() }
        return api
    }

    func json(_ body: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
    }

    var coffee: ByteBuffer {
        get throws { ByteBuffer(bytes: try Data(contentsOf: Fixtures.shared.appendingPathComponent("reference/images/coffee.png"))) }
    }

    @Test func classifyModelsAndHealth() async throws {
        let app = Application(router: try api().router())
        let image = try coffee
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/classify?top=3", method: .post, body: image) { response in
                #expect(response.status == .ok)
                let body = json(response.body)
                let top = body["top"] as? [[String: Any]] ?? []
                #expect(top.count == 3 && top.first?["label"] as? String == "espresso")
                #expect((body["model"] as? [String: Any])?["version"] as? Int == 1 && body["cached"] as? Bool == false)
                #expect(Set((body["timings_ms"] as? [String: Double] ?? [:]).keys) == ["decode", "infer", "total"])
            }
            try await client.execute(uri: "/v1/models", method: .get) { response in
                let body = json(response.body)
                #expect(body["name"] as? String == "imagenet-lite0" && (body["classes"] as? [String])?.count == 1000)
            }
        }
    }

    @Test func badRequestsGetJSONErrors() async throws {
        var limits = InferenceAPI.Limits()
        limits.maxBodyBytes = 100_000
        limits.maxPixels = 10_000
        let app = Application(router: try api(limits: limits).router())
        let image = try coffee
        let big = try TestImages.png(TestImages.gradient(width: 200, height: 100), width: 200, height: 100, colorType: .rgb)
        let cases: [(String, ByteBuffer, HTTPResponse.Status, String)] = [
            ("/v1/classify", ByteBuffer(string: "not an image"), .unsupportedMediaType, "unsupported_image"),
            ("/v1/classify", ByteBuffer(bytes: big), .unprocessableContent, "too_many_pixels"),
            ("/v1/classify", ByteBuffer(bytes: [UInt8](repeating: 0, count: 200_000)), .contentTooLarge, "too_large"),
            ("/v1/classify?top=0", image, .badRequest, "bad_top"),
        ]
        try await app.test(.router) { client in
            for (uri, body, status, code) in cases {
                try await client.execute(uri: uri, method: .post, body: body) { response in
                    #expect(response.status == status, "\(code)")
                    #expect((json(response.body)["error"] as? [String: Any])?["code"] as? String == code)
                }
            }
        }
    }

    @Test func notReadyBeforeTheModelLoads() async throws {
        let app = Application(router: try api(load: false).router())
        try await app.test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }
}
