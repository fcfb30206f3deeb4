package import FishNeural
import FishStore
import Foundation

/// The model registry as operators use it: listing, resolving, gated promotion, rollback, history.
public struct RegistryService: Sendable {
    /// A version with its evaluations.
    public struct VersionDetail: Sendable, Codable {
        public let version: ModelVersion
        public let evaluations: [VersionEvaluation]
        public let aliases: [String]
    }

    /// A model with all its versions.
    public struct ModelDetail: Sendable, Codable {
        public let model: ModelOverview
        public let versions: [VersionDetail]
    }

    /// The promotion gate's verdict: the candidate against the current holder on the same data.
    public struct GateResult: Sendable, Codable, Equatable {
        public let metric: String
        public let evaluationData: String?
        public let candidateVersion: Int
        public let candidateValue: Double?
        public let currentVersion: Int?
        public let currentValue: Double?
        public let passed: Bool
        public let explanation: String
    }

    /// A promotion that took effect.
    public struct Promotion: Sendable, Codable {
        public let move: AliasMove
        public let gate: GateResult
        public let forced: Bool
    }

    /// Aliases whose moves the gate checks.
    public static let gatedAliases: Set<String> = ["production"]

    private let context: ServiceContext
    private var store: Store { context.store }

    public init(context: ServiceContext) {
        self.context = context
    }

    public func models() throws(StoreError) -> [ModelOverview] { try store.models() }

    public func detail(model: String) throws(StoreError) -> ModelDetail {
        guard let overview = try store.models().first(where: { $0.name == model }) else {
            throw .notFound("model \(model) not found; see `fishops models list`")
        }
        let versions = try store.versions(model: model).map { version throws(StoreError) in
            VersionDetail(
                version: version, evaluations: try store.evaluations(model: model, version: version.version),
                aliases: overview.aliases.filter { $0.value == version.version }.keys.sorted())
        }
        return ModelDetail(model: overview, versions: versions)
    }

    /// The version `alias` of `model` points at, or nil while it is unset.
    public func holder(model: String, alias: String) throws(StoreError) -> Int? {
        try store.aliases(model: model)[alias]
    }

    public func history(model: String) throws(StoreError) -> [AuditEntry] {
        guard try store.models().contains(where: { $0.name == model }) else {
            throw .notFound("model \(model) not found; see `fishops models list`")
        }
        return try store.auditLog(model: model)
    }

    /// The version `name` resolves to: `version` if given, else the `production` alias, else the latest.
    public func resolvedVersion(model name: String, version: Int? = nil) throws -> ModelVersion {
        if let version { return try store.version(model: name, version) }
        if let production = try store.aliases(model: name)["production"] { return try store.version(model: name, production) }
        if let latest = try store.versions(model: name).last { return latest }
        throw ServiceError.modelNotFound(name: name, available: try store.models().map(\.name))
    }

    /// The version `name` resolves to (see `resolvedVersion`) with its package opened.
    package func resolve(model name: String, version: Int? = nil) throws -> (version: ModelVersion, package: ModelPackage) {
        let chosen = try resolvedVersion(model: name, version: version)
        return (chosen, try ModelPackage.open(context.packageDirectory(chosen.packagePath)))
    }

    /// Why the package of `model` v`version` cannot be served (missing, unreadable, or weights that do
    /// not match the sha256 the registry and the package recorded), or nil when it is sound.
    public func packageProblem(model: String, version: Int) -> String? {
        do {
            let record = try store.version(model: model, version)
            let package = try ModelPackage.open(context.packageDirectory(record.packagePath))
            _ = try package.verifiedWeights()
            guard package.metadata.weightsSha256 == record.packageSha256 else {
                return "\(model) v\(version): the package's weights are not the ones registered (\(package.directory.path))"
            }
            return nil
        } catch {
            return "\(model) v\(version): \(error)"
        }
    }

    /// The gate's verdict on moving `alias` of `model` to `version`, without moving anything.
    public func gate(model: String, version: Int, alias: String = "production") throws(StoreError) -> GateResult {
        let metric = context.config.gateMetric
        let current = try store.aliases(model: model)[alias]
        func result(_ evaluationData: String?, _ candidate: Double?, _ incumbent: Double?, _ passed: Bool, _ why: String)
            -> GateResult
        {
            GateResult(
                metric: metric, evaluationData: evaluationData, candidateVersion: version, candidateValue: candidate,
                currentVersion: current, currentValue: incumbent, passed: passed, explanation: why)
        }
        _ = try store.version(model: model, version)
        guard Self.gatedAliases.contains(alias) else { return result(nil, nil, nil, true, "\(alias) is not gated") }
        guard let current else { return result(nil, nil, nil, true, "\(model) has no \(alias) version yet") }
        guard let evaluation = try store.evaluations(model: model, version: version).last(where: { $0.metrics[metric] != nil }),
            let candidateValue = evaluation.metrics[metric]
        else {
            return result(nil, nil, nil, false, "v\(version) has no \(metric) measured on any evaluation data")
        }
        let data = evaluation.evaluationData
        guard
            let incumbentValue = try store.evaluations(model: model, version: current)
                .last(where: { $0.evaluationData == data && $0.metrics[metric] != nil })?.metrics[metric]
        else {
            return result(
                data, candidateValue, nil, false,
                "\(alias) v\(current) has no \(metric) on evaluation data \(data) to compare with")
        }
        let direction = try store.direction(ofMetric: metric)
        let worse = direction.prefers(incumbentValue, over: candidateValue)
        let comparison = String(
            format: "%@ on %@: v%d %.4f vs %@ v%d %.4f", metric, data, version, candidateValue, alias, current, incumbentValue)
        return result(data, candidateValue, incumbentValue, !worse, worse ? "candidate is worse (\(comparison))" : comparison)
    }

    /// Moves `alias` to `version` if the gate passes (or `force` is set); every attempt is audited.
    /// `expected` guards against a concurrent move: by default the holder the gate compared against.
    public func promote(
        model: String, version: Int, alias: String = "production", reason: String, force: Bool = false,
        expected: ExpectedHolder? = nil
    ) throws(StoreError) -> Promotion {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw .invalid("a promotion needs a reason (--reason TEXT)")
        }
        let verdict = try gate(model: model, version: version, alias: alias)
        if let problem = packageProblem(model: model, version: version) {
            throw .invalid("\(problem); it cannot be promoted (re-import or re-train it, or pick another version)")
        }
        if let expected, !expected.matches(verdict.currentVersion) {
            // The alias moved since the operator looked: a conflict, whatever the gate says.
            try store.recordRefusal(
                model: model, alias: alias, from: verdict.currentVersion, to: version, action: .promote,
                actor: context.actor, reason: reason,
                detail: Store.conflictDetail(current: verdict.currentVersion, expected: expected), outcome: .conflict)
            throw Store.conflict(model: model, alias: alias, current: verdict.currentVersion, expected: expected)
        }
        if verdict.currentVersion == version { throw .invalid("\(alias) of \(model) already points at v\(version)") }
        if !verdict.passed && !force {
            try store.recordRefusal(
                model: model, alias: alias, from: verdict.currentVersion, to: version, action: .promote,
                actor: context.actor, reason: reason, detail: verdict.explanation)
            throw .gateRefused("\(verdict.explanation); to override, repeat with --force and a --reason")
        }
        let guardHolder = expected ?? verdict.currentVersion.map(ExpectedHolder.version) ?? .vacant
        let move = try store.moveAlias(
            model: model, alias: alias, to: version, expected: guardHolder, action: .promote,
            actor: context.actor, reason: force && !verdict.passed ? "[forced] \(reason)" : reason)
        return Promotion(move: move, gate: verdict, forced: force && !verdict.passed)
    }

    /// Where a rollback of `alias` would move it: from the current holder to the previous one.
    public func rollbackTarget(model: String, alias: String = "production") throws(StoreError) -> (current: Int, previous: Int)? {
        try store.previousHolder(model: model, alias: alias)
    }

    /// Moves `alias` back to the version it held before its current holder was promoted.
    public func rollback(model: String, alias: String = "production", reason: String) throws(StoreError) -> AliasMove {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw .invalid("a rollback needs a reason (--reason TEXT)")
        }
        guard let (current, previous) = try rollbackTarget(model: model, alias: alias) else {
            throw .notFound("\(alias) of \(model) has no previous version to roll back to")
        }
        if let problem = packageProblem(model: model, version: previous) {
            throw .invalid("\(problem); cannot roll back to it (promote a sound version instead)")
        }
        return try store.moveAlias(
            model: model, alias: alias, to: previous, expected: .version(current), action: .rollback,
            actor: context.actor, reason: reason)
    }
}
