import ArgumentParser
import FishServices
import Foundation

struct Schedule: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recurring fishops commands, started by `fishops agent` (see docs/cluster.md).",
        subcommands: [Add.self, List.self, History.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a schedule: fishops schedule add NAME --cron \"0 3 * * *\" -- train --data DIR ...")

        @Argument(help: "The schedule's name.")
        var name: String

        @Option(help: "Five cron fields (minute hour day-of-month month day-of-week), in the agent's local time.")
        var cron: String

        @Argument(parsing: .postTerminator, help: "The fishops command to run, after --.")
        var command: [String] = []

        @Flag(help: "Print JSON.")
        var json = false

        func validate() throws {
            guard let first = command.first else {
                throw ValidationError("give the command to run after --, e.g. -- train --data DIR")
            }
            guard !["agent", "console", "serve", "worker", "schedule"].contains(first) else {
                throw ValidationError("\(first) cannot be scheduled: schedules start commands that finish")
            }
            do {
                _ = try FishOps.parseAsRoot(command)
            } catch {
                throw ValidationError("the scheduled command does not parse: \(FishOps.message(for: error))")
            }
        }

        func run() throws {
            let context = try makeContext()
            let summary = try reporting { try ScheduleService(context: context).add(name: name, cron: cron, arguments: command) }
            if json { return print(jsonLine(summary)) }
            print(
                "schedule \(name): fishops \(command.joined(separator: " ")) at \"\(summary.schedule.cron)\"; next "
                    + (summary.nextDue.map(shortDate) ?? "never") + ". Runs start only while `fishops agent` runs.")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Schedules, their next due time, last run and missed runs.")

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let context = try makeContext()
            let summaries = try reporting { try ScheduleService(context: context).list() }
            if json { return print(jsonLine(summaries)) }
            guard !summaries.isEmpty else {
                return print("no schedules; add one with fishops schedule add NAME --cron ... -- COMMAND")
            }
            print(
                table(
                    ["name", "cron", "command", "next", "last", "missed"],
                    summaries.map { summary in
                        [
                            summary.schedule.name, summary.schedule.cron, summary.schedule.arguments.joined(separator: " "),
                            summary.nextDue.map(shortDate) ?? "never",
                            summary.last.map { "\(shortDate($0.dueAt)) \($0.outcome.rawValue)" } ?? "", "\(summary.missed)",
                        ]
                    }))
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every recorded due time of a schedule: started, missed or failed.")

        @Argument(help: "The schedule's name.")
        var name: String

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let context = try makeContext()
            let runs = try reporting { try ScheduleService(context: context).history(name: name) }
            if json { return print(jsonLine(runs)) }
            print(
                table(
                    ["due", "outcome", "agent", "detail"],
                    runs.map { [shortDate($0.dueAt), $0.outcome.rawValue, $0.agent, $0.detail] }))
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a schedule and its history.")

        @Argument(help: "The schedule's name.")
        var name: String

        func run() throws {
            let context = try makeContext()
            try reporting { try ScheduleService(context: context).remove(name: name) }
            print("removed schedule \(name)")
        }
    }
}

struct Agent: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start scheduled runs when they come due (runs until stopped).",
        discussion: """
            Several agents may run: each due time starts once. Due times that passed while no agent ran are recorded
            as missed (see `fishops schedule list` and `history`), not run late. Started commands log to
            $FISHOPS_HOME/logs/schedules/. Prints one JSON line per recorded due time.
            """)

    @Option(help: "Most seconds between checks.")
    var interval: Double = 30

    @Flag(help: "Check once and exit.")
    var once = false

    func validate() throws {
        guard interval >= 1 && interval <= ScheduleService.grace - 10 else {
            throw ValidationError("--interval must be 1 to \(Int(ScheduleService.grace) - 10) seconds")
        }
    }

    func run() throws {
        let context = try makeContext()
        let service = ScheduleService(context: context)
        let agent = "\(ProcessInfo.processInfo.hostName) pid \(getpid())"
        let logs = context.config.home.appendingPathComponent("logs/schedules")
        while true {
            let recorded = try reporting {
                try service.tick(agent: agent) { record in try Self.start(record, logs: logs) }
            }
            for run in recorded { FileHandle.standardOutput.write(Data((jsonLine(run) + "\n").utf8)) }
            if once { return }
            let next = (try? service.nextDue())?.timeIntervalSinceNow ?? interval
            Thread.sleep(forTimeInterval: min(max(next + 0.5, 1), interval))
        }
    }

    /// Starts `fishops ARGUMENTS` in the background with its output in a log file.
    static func start(_ record: ScheduleRecord, logs: URL) throws -> String {
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let log = logs.appendingPathComponent("\(record.name)-\(localDate(Date(), format: "yyyyMMdd-HHmmss")).log")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
            throw ValidationError("cannot create \(log.path)")
        }
        let output = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = FishConfig.ownExecutable
        process.arguments = record.arguments
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return "pid \(process.processIdentifier), log \(log.path)"
    }
}
