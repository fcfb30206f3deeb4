public import FishRecords

/// What one `fishops mlflow sync` sent.
public struct MirrorSyncReport: Sendable, Codable, Equatable {
    public var sent: Int
    public var rejected: Int
    public var status: MirrorStatus
}
