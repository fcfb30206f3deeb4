public import Foundation

// The model registry's records as every layer speaks them.

public struct RegisteredModel: Codable, Sendable, Equatable {
    public var name: String
    public var createdAt: Date
    public var createdBy: String

    public init(name: String, createdAt: Date, createdBy: String) {
        self.name = name
        self.createdAt = createdAt
        self.createdBy = createdBy
    }
}

/// An immutable model version: a package, where it came from, and who made it.
public struct ModelVersion: Codable, Sendable, Equatable {
    public var model: String
    public var version: Int
    public var packageSha256: String
    /// The package folder, relative to the FishOps home.
    public var packagePath: String
    public var sourceRunId: String?
    public var createdBy: String
    public var createdAt: Date

    public init(
        model: String, version: Int, packageSha256: String, packagePath: String, sourceRunId: String?,
        createdBy: String, createdAt: Date
    ) {
        self.model = model
        self.version = version
        self.packageSha256 = packageSha256
        self.packagePath = packagePath
        self.sourceRunId = sourceRunId
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// Metrics of a model version measured on one evaluation data set (identified by fingerprint).
public struct VersionEvaluation: Codable, Sendable, Equatable {
    public var model: String
    public var version: Int
    public var evaluationData: String
    public var metrics: [String: Double]
    public var createdAt: Date

    public init(model: String, version: Int, evaluationData: String, metrics: [String: Double], createdAt: Date) {
        self.model = model
        self.version = version
        self.evaluationData = evaluationData
        self.metrics = metrics
        self.createdAt = createdAt
    }
}

/// What an audit entry records.
public enum AuditAction: String, Codable, Sendable {
    case registerVersion = "register_version"
    case promote, rollback
}

/// Whether the recorded attempt took effect.
public enum AuditOutcome: String, Codable, Sendable {
    case applied, refused, conflict
}

/// One line of the append-only audit log: who did what, when, from which version to which, and why.
public struct AuditEntry: Codable, Sendable, Equatable {
    public var id: Int64?
    public var at: Date
    public var actor: String
    public var host: String
    public var model: String
    public var action: AuditAction
    public var alias: String?
    public var fromVersion: Int?
    public var toVersion: Int?
    public var outcome: AuditOutcome
    public var reason: String
    public var detail: String

    public init(
        id: Int64?, at: Date, actor: String, host: String, model: String, action: AuditAction, alias: String?,
        fromVersion: Int?, toVersion: Int?, outcome: AuditOutcome, reason: String, detail: String
    ) {
        self.id = id
        self.at = at
        self.actor = actor
        self.host = host
        self.model = model
        self.action = action
        self.alias = alias
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.outcome = outcome
        self.reason = reason
        self.detail = detail
    }
}

/// A registered model with its versions' count and aliases.
public struct ModelOverview: Sendable, Codable, Equatable {
    public let name: String
    public let createdAt: Date
    public let latestVersion: Int?
    public let versionCount: Int
    public let aliases: [String: Int]

    public init(name: String, createdAt: Date, latestVersion: Int?, versionCount: Int, aliases: [String: Int]) {
        self.name = name
        self.createdAt = createdAt
        self.latestVersion = latestVersion
        self.versionCount = versionCount
        self.aliases = aliases
    }
}

/// What the caller believes an alias points at; a move fails with a conflict if it changed.
public enum ExpectedHolder: Sendable, Equatable {
    /// Move whatever the alias points at now.
    case unchecked
    /// The alias must not exist yet.
    case vacant
    /// The alias must point at this version.
    case version(Int)

    /// Whether an alias currently at `holder` (nil: absent) is what this expects.
    public func matches(_ holder: Int?) -> Bool {
        switch self {
        case .unchecked: return true
        case .vacant: return holder == nil
        case .version(let version): return holder == version
        }
    }
}

/// An alias move that took effect.
public struct AliasMove: Sendable, Codable, Equatable {
    public let model: String
    public let alias: String
    public let fromVersion: Int?
    public let toVersion: Int
    public let auditId: Int64

    /// "production of fish moved from v1 to v2" ("from nothing" for a first holder).
    public var sentence: String {
        "\(alias) of \(model) moved from \(fromVersion.map { "v\($0)" } ?? "nothing") to v\(toVersion)"
    }

    public init(model: String, alias: String, fromVersion: Int?, toVersion: Int, auditId: Int64) {
        self.model = model
        self.alias = alias
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.auditId = auditId
    }
}

/// Who acts on the registry, for the audit log.
public struct ActingUser: Sendable, Equatable {
    public let user: String
    public let host: String

    public init(user: String, host: String) {
        self.user = user
        self.host = host
    }
}
