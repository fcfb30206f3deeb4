import ArgumentParser
import FishServices
import Foundation

/// `fishops hooks`: commands or URLs told about events (docs/hooks.md).
struct Hooks: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hooks",
        abstract: "Run a command or post to a URL when an alias moves, a promotion is refused or training ends.",
        discussion: "Events: \(HookEventName.allCases.map(\.rawValue).joined(separator: ", ")).",
        subcommands: [Add.self, List.self, Remove.self, Log.self, Deliver.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a hook.")
        @Argument(help: "Hook name.") var name: String
        @Option(help: "Events, comma-separated (or repeated).") var on: [String] = []
        @Option(help: "Shell command run with the event as JSON on standard input.") var exec: String?
        @Option(help: "URL the event is posted to as JSON.") var post: String?
        @Option(help: "With --post: a file whose first line is the Bearer token (read at each delivery).") var tokenFile: String?
        @Option(help: "With --post: an environment variable holding the Bearer token.") var tokenEnv: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let hook = try reporting {
                try HookService(context: try makeContext()).add(
                    name: name, events: on, exec: exec, post: post, tokenFile: tokenFile, tokenEnvironment: tokenEnv)
            }
            if json { return print(jsonLine(hook, snakeCase: true)) }
            print("hook \(hook.name) added for \(hook.events.map(\.rawValue).joined(separator: ", "))")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the hooks.")
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let hooks = try reporting { try HookService(context: try makeContext()).list() }
            if json { return print(jsonLine(hooks, snakeCase: true)) }
            if hooks.isEmpty { return print("no hooks; add one with `fishops hooks add NAME --on EVENTS --exec CMD`") }
            print(
                table(
                    ["NAME", "EVENTS", "ACTION"],
                    hooks.map { [$0.name, $0.events.map(\.rawValue).joined(separator: ","), Self.describe($0.action)] }))
        }

        static func describe(_ action: Hook.Action) -> String {
            switch action {
            case let .exec(command): return "exec \(command)"
            case let .post(url, file, variable):
                return "post \(url)" + (file.map { " (token from \($0))" } ?? variable.map { " (token from $\($0))" } ?? "")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a hook and the events waiting for it.")
        @Argument(help: "Hook name.") var name: String

        func run() throws {
            try reporting { try HookService(context: try makeContext()).remove(name) }
            print("hook \(name) removed")
        }
    }

    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the latest delivery attempts, oldest first.")
        @Option(help: "How many.") var limit = 50
        @Flag(help: "Print JSON (one object per line).") var json = false

        func run() throws {
            let entries = try reporting { try HookService(context: try makeContext()).log(limit: limit) }
            if json { return entries.forEach { print(jsonLine($0, snakeCase: true)) } }
            if entries.isEmpty { return print("no deliveries yet") }
            print(table(["AT", "HOOK", "EVENT", "ID", "TRY", "OUTCOME", "DETAIL"], entries.map(Self.row)))
        }

        static func row(_ entry: HookDelivery) -> [String] {
            [
                localDate(entry.at, format: "yyyy-MM-dd HH:mm:ss"), entry.hook, entry.event.rawValue, String(entry.eventId),
                String(entry.attempt), entry.outcome.rawValue, entry.detail,
            ]
        }
    }

    struct Deliver: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deliver every waiting event now, without waiting for its next retry.")
        @Flag(help: "Print JSON (one object per attempt). Exits 1 when an attempt failed.") var json = false

        func run() throws {
            let service = HookService(context: try makeContext())
            let made = try reporting { try service.deliver(ignoringBackoff: true) }
            if json {
                made.forEach { print(jsonLine($0, snakeCase: true)) }
            } else {
                for entry in made { print(Log.row(entry).joined(separator: "  ")) }
                let waiting = try reporting { try service.pending() }
                print("\(made.filter { $0.outcome == .delivered }.count) delivered, \(waiting) waiting")
            }
            if made.contains(where: { $0.outcome != .delivered }) { throw ExitCode.failure }
        }
    }
}
