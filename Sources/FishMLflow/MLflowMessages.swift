// The parts of MLflow's REST messages FishOps sends and reads (MLflow spells the fields in snake_case;
// MLflowClient converts).

/// A run as MLflow describes it.
public struct MLflowRun: Codable, Sendable {
    public var runId: String
    public var experimentId: String
    /// Where the run's artifacts go (`mlflow-artifacts:/<experiment>/<run>/artifacts` when proxied).
    public var artifactUri: String
}

/// One metric point.
public struct MLflowMetric: Codable, Sendable, Equatable {
    public var key: String
    public var value: Double
    /// Milliseconds since 1970.
    public var timestamp: Int64
    public var step: Int

    public init(key: String, value: Double, timestamp: Int64, step: Int) {
        (self.key, self.value, self.timestamp, self.step) = (key, value, timestamp, step)
    }
}

/// A model version as MLflow describes it.
public struct MLflowModelVersion: Codable, Sendable {
    public var name: String
    public var version: String
    public var source: String?
    public var runId: String?
    public var tags: [KeyValue]?

    /// The value of tag `key`, if set.
    public func tag(_ key: String) -> String? { tags?.first { $0.key == key }?.value }
}

/// MLflow's key-value pairs (params and tags).
public struct KeyValue: Codable, Sendable, Equatable {
    public var key: String
    public var value: String

    var size: Int { key.utf8.count + value.utf8.count + 32 }
}

struct Empty: Decodable {}

struct ExperimentCreated: Decodable { var experimentId: String }

struct ExperimentReply: Decodable {
    struct Experiment: Decodable { var experimentId: String }
    var experiment: Experiment
}

struct RunSearch: Encodable {
    var experimentIds: [String]
    var filter: String
    var maxResults: Int
    var pageToken: String?
}

struct RunSearchReply: Decodable {
    struct Entry: Decodable { var info: MLflowRun }
    var runs: [Entry]?
    var nextPageToken: String?
}

struct RunCreate: Encodable {
    var experimentId: String
    var runName: String
    var startTime: Int64
    var userId: String
    var tags: [KeyValue]
}

struct RunReply: Decodable {
    struct Entry: Decodable { var info: MLflowRun }
    var run: Entry
}

struct RunUpdate: Encodable {
    var runId: String
    var status: String
    var endTime: Int64
}

struct LogBatch: Encodable {
    var runId: String
    var metrics: [MLflowMetric]
    var params: [KeyValue]
    var tags: [KeyValue]

    var count: Int { metrics.count + params.count + tags.count }
}

struct VersionSearchReply: Decodable {
    var modelVersions: [MLflowModelVersion]?
    var nextPageToken: String?
}

struct VersionCreate: Encodable {
    var name: String
    var source: String
    var runId: String?
    var tags: [KeyValue]
}

struct VersionReply: Decodable { var modelVersion: MLflowModelVersion }

struct ArtifactListing: Decodable {
    struct Entry: Decodable {
        var path: String
        var isDir: Bool?
        var fileSize: Int?
    }
    var files: [Entry]?
}
