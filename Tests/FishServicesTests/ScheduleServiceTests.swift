import FishServices
import FishStore
import FishTestSupport
import Foundation
import Synchronization
import Testing

@Suite struct CronExpressionTests {
    let utc = TimeZone(identifier: "UTC") ?? .current

    func date(_ text: String) throws -> Date {
        try #require(ISO8601DateFormatter().date(from: text))
    }

    @Test func nextDueTimes() throws {
        let start = try date("2026-11-29T10:07:30Z")  // a Sunday
        let cases: [(String, String)] = [
            ("0 3 * * *", "2026-11-30T03:00:00Z"),
            ("*/15 * * * *", "2026-11-29T10:15:00Z"),
            ("7 10 * * *", "2026-11-30T10:07:00Z"),  // strictly after the start minute
            ("0 9 * * 1-5", "2026-11-30T09:00:00Z"),  // next weekday
            ("30 8 1 * *", "2026-12-01T08:30:00Z"),
            ("0 0 29 2 *", "2028-02-29T00:00:00Z"),  // the next leap day
            ("0 12 13 * 5", "2026-12-04T12:00:00Z"),  // day 13 OR a Friday, as in cron
            ("5,10 */6 * 1,12 0,7", "2026-12-06T00:05:00Z"),  // the first Sunday of December
        ]
        for (text, expected) in cases {
            let cron = try CronExpression(text, timeZone: utc)
            #expect(cron.next(after: start) == (try date(expected)), "\(text)")
        }
        #expect(try CronExpression("0 0 31 2 *", timeZone: utc).next(after: start) == nil)  // never
    }

    @Test func dueTimesInAnInterval() throws {
        let cron = try CronExpression("*/20 * * * *", timeZone: utc)
        let times = cron.dueTimes(after: try date("2026-11-29T10:00:00Z"), through: try date("2026-11-29T11:00:00Z"))
        #expect(times == [try date("2026-11-29T10:20:00Z"), try date("2026-11-29T10:40:00Z"), try date("2026-11-29T11:00:00Z")])
    }

    @Test func badExpressionsNameTheField() {
        let cases: [(String, String)] = [
            ("61 * * * *", "minute field \"61\" is outside 0-59"),
            ("* * *", "expected 5 fields"),
            ("* 24 * * *", "hour field"),
            ("*/0 * * * *", "step that is not a positive number"),
            ("* * * jan *", "month field \"jan\" is not *, a number or a range"),
            ("5-1 * * * *", "is outside"),
        ]
        for (text, message) in cases {
            #expect {
                _ = try CronExpression(text)
            } throws: { error in
                "\(error)".contains(message)
            }
        }
    }
}

@Suite struct ScheduleServiceTests {
    /// Two agents (separate store connections, as separate processes have) tick at the same
    /// moment for a schedule that came due every minute for the last 10 minutes.
    @Test func twoAgentsStartADueRunOnceAndReportTheMissedOnes() throws {
        let home = try Fixtures.temporaryDirectory()
        let first = try ServiceContext(config: FishConfig(home: home, threads: 1))
        let second = try ServiceContext(config: FishConfig(home: home, threads: 1))
        let now = try #require(ISO8601DateFormatter().date(from: "2026-11-29T10:00:45Z"))
        _ = try ScheduleService(context: first).add(
            name: "minutely", cron: "* * * * *", arguments: ["status"],
            now: now.addingTimeInterval(-600))
        let launches = Mutex<[String]>([])
        let recorded = Mutex<[ScheduleRun]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let context = index == 0 ? first : second
            let runs = try? ScheduleService(context: context).tick(now: now, agent: "agent-\(index)") { _ in
                launches.withLock { $0.append("agent-\(index)") }
                return "started by agent-\(index)"
            }
            recorded.withLock { $0 += runs ?? [] }
        }
        #expect(launches.withLock { $0.count } == 1)
        let all = recorded.withLock { $0 }
        #expect(all.count == 10)  // every due time recorded once
        #expect(Set(all.map(\.dueAt)).count == 10)
        #expect(all.filter { $0.outcome == .missed }.count == 9)  // older than the grace period
        let started = try #require(all.first { $0.outcome == .started })
        #expect(started.dueAt == now.addingTimeInterval(-45))
        #expect(started.detail == "started by \(started.agent)")

        // A later tick at the same moment finds nothing new; the list reports what happened.
        #expect(try ScheduleService(context: second).tick(now: now, agent: "agent-1") { _ in "again" }.isEmpty)
        let summary = try #require(try ScheduleService(context: first).list(now: now).first)
        #expect(summary.missed == 9 && summary.last?.outcome == .started)
        #expect(summary.nextDue == now.addingTimeInterval(15))
    }

    @Test func aCommandThatCannotStartIsRecordedAsFailed() throws {
        let context = try ServiceContext(config: FishConfig(home: try Fixtures.temporaryDirectory(), threads: 1))
        // Created 50 s before a moment 45 s into a minute: exactly one due time (the minute's start) lies between.
        let now = try #require(ISO8601DateFormatter().date(from: "2026-11-29T11:00:45Z"))
        _ = try ScheduleService(context: context).add(
            name: "broken", cron: "* * * * *", arguments: ["status"], now: now.addingTimeInterval(-50))
        let runs = try ScheduleService(context: context).tick(now: now, agent: "agent") { _ in
            throw ServiceError.failed("no such binary")
        }
        #expect(runs.map(\.outcome) == [.failed] && runs.first?.detail.contains("no such binary") == true)
        #expect(try ScheduleService(context: context).history(name: "broken").map(\.outcome) == [.failed])
    }

    @Test func namesAndCommandsAreChecked() throws {
        let service = ScheduleService(
            context: try ServiceContext(config: FishConfig(home: try Fixtures.temporaryDirectory(), threads: 1)))
        _ = try service.add(name: "nightly", cron: "0 3 * * *", arguments: ["status"])
        #expect(throws: StoreError.self) { try service.add(name: "nightly", cron: "0 4 * * *", arguments: ["status"]) }
        #expect(throws: (any Error).self) { try service.add(name: "bad name", cron: "0 3 * * *", arguments: ["status"]) }
        #expect(throws: ServiceError.self) { try service.add(name: "empty", cron: "0 3 * * *", arguments: []) }
        try service.remove(name: "nightly")
        #expect(try service.list().isEmpty)
        #expect(throws: StoreError.self) { try service.remove(name: "nightly") }
    }
}
