import FishServices

// The JSON bodies of the API (keys are written in snake case); a model is named by its
// `ClassificationService.ModelReference` (`{"name","version"}`).

/// `GET /v1/models`.
struct ModelsResponse: Encodable {
    let name: String
    let version: Int
    let alias: String
    let classes: [String]
    let metrics: [String: Double]
}

/// `POST /v1/classify`: the top classes, whether the answer came from the cache, and where the time
/// went (decode, queue, infer, total; milliseconds).
struct ClassifyResponse: Encodable {
    let model: ClassificationService.ModelReference
    let top: [Prediction]
    let cached: Bool
    let timingsMs: [String: Double]
}

/// `POST /v1/classify/batch`: one item per image, in request order.
struct BatchResponse: Encodable {
    let model: ClassificationService.ModelReference
    let results: [BatchItem]
}

/// One image of a batch: its answer or its error.
struct BatchItem: Encodable {
    let name: String
    var top: [Prediction]?
    var cached: Bool?
    var timingsMs: [String: Double]?
    var error: APIError?
}
