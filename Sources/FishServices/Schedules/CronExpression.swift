public import Foundation

/// A standard five-field cron expression: minute, hour, day of month, month, day of week, each
/// `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or a comma list of those. When both
/// day fields are restricted, a day matching either counts (as in cron). Evaluated in `timeZone`.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let description: String
    private let minutes: Set<Int>, hours: Set<Int>, days: Set<Int>, months: Set<Int>, weekdays: Set<Int>
    private let daysRestricted: Bool, weekdaysRestricted: Bool
    private let timeZone: TimeZone

    /// Parses `text`; the error says which field is wrong and why.
    public init(_ text: String, timeZone: TimeZone = .current) throws(ServiceError) {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 else {
            throw .invalidArgument(
                "cron \(text.debugDescription): expected 5 fields (minute hour day-of-month month day-of-week), found \(fields.count)"
            )
        }
        func parse(_ index: Int, _ name: String, _ range: ClosedRange<Int>) throws(ServiceError) -> Set<Int> {
            do {
                return try Self.values(fields[index], range)
            } catch {
                throw .invalidArgument(
                    "cron \(text.debugDescription): \(name) field \(fields[index].debugDescription) \(error.reason)")
            }
        }
        minutes = try parse(0, "minute", 0...59)
        hours = try parse(1, "hour", 0...23)
        days = try parse(2, "day-of-month", 1...31)
        months = try parse(3, "month", 1...12)
        weekdays = Set(try parse(4, "day-of-week", 0...7).map { $0 % 7 })  // 0 and 7 are Sunday
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
        description = fields.joined(separator: " ")
        self.timeZone = timeZone
    }

    private struct FieldError: Error {
        let reason: String
    }

    private static func values(_ field: String, _ range: ClosedRange<Int>) throws(FieldError) -> Set<Int> {
        var result = Set<Int>()
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw FieldError(reason: "has more than one '/'") }
            var step = 1
            if pieces.count == 2 {
                guard let value = Int(pieces[1]), value > 0 else {
                    throw FieldError(reason: "has a step that is not a positive number")
                }
                step = value
            }
            var low = range.lowerBound
            var high = range.upperBound
            if pieces[0] != "*" {
                let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
                guard (1...2).contains(bounds.count), let first = bounds[0], let last = bounds[bounds.count - 1] else {
                    throw FieldError(reason: "is not *, a number or a range a-b")
                }
                low = first
                // "a" alone is one value; "a/n" runs from a to the end of the range.
                high = bounds.count == 2 ? last : (pieces.count == 2 ? range.upperBound : first)
            }
            guard range.contains(low), range.contains(high), low <= high else {
                throw FieldError(reason: "is outside \(range.lowerBound)-\(range.upperBound)")
            }
            result.formUnion(stride(from: low, through: high, by: step))
        }
        return result
    }

    /// The first time strictly after `date` (to the minute) at which the expression is due, or
    /// nil when none comes within five years (e.g. 30 February).
    public func next(after date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let start = calendar.dateInterval(of: .minute, for: date)?.start ?? date
        guard var time = calendar.date(byAdding: .minute, value: 1, to: start) else { return nil }
        let limit = date.addingTimeInterval(5 * 366 * 86_400)
        while time < limit {
            let parts = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: time)
            guard let minute = parts.minute, let hour = parts.hour, let day = parts.day, let month = parts.month,
                let weekday = parts.weekday
            else { return nil }
            if !months.contains(month) {
                guard
                    let next = calendar.date(
                        byAdding: .month, value: 1, to: calendar.dateInterval(of: .month, for: time)?.start ?? time)
                else { return nil }
                time = next
            } else if !dayMatches(day: day, weekday: weekday - 1) {
                guard let next = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: time)) else { return nil }
                time = next
            } else if !hours.contains(hour) {
                guard
                    let next = calendar.date(
                        byAdding: .hour, value: 1, to: calendar.dateInterval(of: .hour, for: time)?.start ?? time)
                else { return nil }
                time = next
            } else if !minutes.contains(minute) {
                guard let next = calendar.date(byAdding: .minute, value: 1, to: time) else { return nil }
                time = next
            } else {
                return time
            }
        }
        return nil
    }

    /// Every due time in `(after, through]`, oldest first, at most `limit` of them.
    public func dueTimes(after start: Date, through end: Date, limit: Int = 1000) -> [Date] {
        var times: [Date] = []
        var cursor = start
        while times.count < limit, let next = next(after: cursor), next <= end {
            times.append(next)
            cursor = next
        }
        return times
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): return days.contains(day) || weekdays.contains(weekday)
        case (true, false): return days.contains(day)
        case (false, true): return weekdays.contains(weekday)
        case (false, false): return true
        }
    }
}
