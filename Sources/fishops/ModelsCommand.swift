import ArgumentParser
import FishServices
import Foundation

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The model registry: versions, aliases, gated promotion, rollback, audit log.",
        subcommands: [List.self, Show.self, History.self, Promote.self, Rollback.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered models.")
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let models = try reporting { try RegistryService(context: try makeContext()).models() }
            if json { return print(jsonLine(models)) }
            print(
                table(
                    ["MODEL", "VERSIONS", "LATEST", "ALIASES"],
                    models.map { model in
                        [
                            model.name, "\(model.versionCount)", model.latestVersion.map { "v\($0)" } ?? "-",
                            model.aliases.sorted { $0.key < $1.key }.map { "\($0.key)=v\($0.value)" }.joined(separator: " "),
                        ]
                    }))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a model's versions, aliases and metrics.")
        @Argument(help: "Model name.") var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let detail = try reporting { try RegistryService(context: try makeContext()).detail(model: name) }
            if json { return print(jsonLine(detail)) }
            print("\(detail.model.name): \(detail.model.versionCount) version(s)")
            print(
                table(
                    ["VERSION", "ALIASES", "CREATED", "BY", "SOURCE RUN", "METRICS"],
                    detail.versions.map { entry in
                        let metrics =
                            entry.evaluations.last.map { evaluation in
                                evaluation.metrics.sorted { $0.key < $1.key }.map { String(format: "%@=%.4f", $0.key, $0.value) }
                                    .joined(separator: " ") + " (\(evaluation.evaluationData))"
                            } ?? "-"
                        return [
                            "v\(entry.version.version)", entry.aliases.joined(separator: ","), shortDate(entry.version.createdAt),
                            entry.version.createdBy, entry.version.sourceRunId.map { String($0.prefix(8)) } ?? "-", metrics,
                        ]
                    }))
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the audit log of a model.")
        @Argument(help: "Model name.") var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let entries = try reporting { try RegistryService(context: try makeContext()).history(model: name) }
            if json { return print(jsonLine(entries)) }
            print(
                table(
                    ["WHEN", "WHO", "ACTION", "ALIAS", "FROM", "TO", "OUTCOME", "REASON"],
                    entries.map { entry in
                        [
                            shortDate(entry.at), "\(entry.actor)@\(entry.host)", entry.action.rawValue, entry.alias ?? "-",
                            entry.fromVersion.map { "v\($0)" } ?? "-", entry.toVersion.map { "v\($0)" } ?? "-",
                            entry.outcome.rawValue,
                            entry.reason + (entry.detail.isEmpty || entry.outcome == .applied ? "" : " [\(entry.detail)]"),
                        ]
                    }))
        }
    }

    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Point an alias (default production) at a version, if the promotion gate passes.",
            discussion: """
                The gate compares the candidate's metric ($FISHOPS_GATE_METRIC, default macro_f1) with the current \
                production version's value on the same evaluation data. Exit status 4: refused by the gate; \
                3: the alias moved meanwhile (see --expected-current).
                """)
        @Argument(help: "Model name.") var name: String
        @Argument(help: "Version number to promote.") var version: Int
        @Option(help: "The alias to move.") var alias = "production"
        @Option(help: "Why (recorded in the audit log).") var reason: String
        @Flag(help: "Override a failed gate (needs --reason).") var force = false
        @Option(help: "Only move if the alias points at this version now ('none': it must not exist yet).")
        var expectedCurrent: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let expected: ExpectedHolder?
            switch expectedCurrent {
            case nil: expected = nil
            case "none"?: expected = .vacant
            case let text?:
                guard let number = Int(text.hasPrefix("v") ? String(text.dropFirst()) : text) else {
                    throw ValidationError("--expected-current takes a version number or 'none'")
                }
                expected = .version(number)
            }
            let service = RegistryService(context: try makeContext())
            let promotion = try reporting {
                try service.promote(model: name, version: version, alias: alias, reason: reason, force: force, expected: expected)
            }
            if json { return print(jsonLine(promotion)) }
            print("gate: \(promotion.gate.explanation)\(promotion.forced ? " (overridden with --force)" : "")")
            print(promotion.move.sentence)
        }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move an alias back to the version it held before its current holder was promoted.")
        @Argument(help: "Model name.") var name: String
        @Option(help: "The alias to move back.") var alias = "production"
        @Option(help: "Why (recorded in the audit log).") var reason: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let service = RegistryService(context: try makeContext())
            let move = try reporting { try service.rollback(model: name, alias: alias, reason: reason) }
            if json { return print(jsonLine(move)) }
            print("\(alias) of \(name) rolled back from v\(move.fromVersion ?? 0) to v\(move.toVersion)")
        }
    }
}
