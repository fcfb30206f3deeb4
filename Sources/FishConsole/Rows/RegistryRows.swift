package import FishServices
import Foundation

/// What `:models`, a model's versions and its audit history show, from what the registry returned.
package enum RegistryRows {
    /// `production=v3 staging=v4`, by alias name.
    package static func aliases(_ aliases: [String: Int]) -> String {
        aliases.sorted { $0.key < $1.key }.map { "\($0.key)=v\($0.value)" }.joined(separator: " ")
    }

    /// The models whose name contains `filter` (any case).
    package static func matching(_ models: [ModelOverview], filter: String) -> [ModelOverview] {
        models.filter { filter.isEmpty || $0.name.localizedCaseInsensitiveContains(filter) }
    }

    /// One row per model: name, how many versions, the latest, the aliases.
    package static func models(_ models: [ModelOverview]) -> [Table.Row] {
        models.map { model in
            Table.Row([
                model.name, "\(model.versionCount)", model.latestVersion.map { "v\($0)" } ?? "-", aliases(model.aliases),
            ])
        }
    }

    /// One row per version, newest first, with its latest evaluation on `gateMetric`; production's stands out.
    package static func versions(_ versions: [RegistryService.VersionDetail], gateMetric metric: String) -> [Table.Row] {
        versions.map { detail in
            let evaluation = detail.evaluations.last { $0.metrics[metric] != nil }
            let text = evaluation.map { "\(metric) \(Format.number($0.metrics[metric] ?? 0)) on \($0.evaluationData)" } ?? ""
            return Table.Row(
                [
                    "v\(detail.version.version)", detail.aliases.joined(separator: " "), Format.date(detail.version.createdAt),
                    detail.version.createdBy, text,
                ], role: detail.aliases.contains("production") ? "metric.best" : "table.row")
        }
    }

    /// One row per audit entry, newest first; refused and forced moves stand out.
    package static func history(_ entries: [AuditEntry]) -> [Table.Row] {
        entries.reversed().map { entry in
            let move = "\(entry.fromVersion.map { "v\($0)" } ?? "-")>\(entry.toVersion.map { "v\($0)" } ?? "-")"
            let action = entry.alias.map { "\(entry.action.rawValue) \($0)" } ?? entry.action.rawValue
            return Table.Row(
                [Format.date(entry.at), entry.actor, action, move, entry.outcome.rawValue, entry.reason],
                role: entry.outcome == .applied ? "table.row" : "status.failed")
        }
    }
}
