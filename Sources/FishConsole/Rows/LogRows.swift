package import FishServices

/// What `:logs` and the overview's events box show: the session's event log, errors in the error
/// role; and the hooks' latest delivery attempts.
package enum LogRows {
    /// One line per entry, oldest first, prefixed with the time when `timed`.
    package static func events(_ entries: some Sequence<EventLog.Entry>, timed: Bool) -> [StyledLine] {
        entries.map { entry in
            StyledLine(
                timed ? "\(Format.time(entry.at))  \(entry.message)" : entry.message, role: entry.isError ? "ui.error" : "ui.text"
            )
        }
    }

    /// One line per delivery attempt, oldest first: time, hook, event, attempt, outcome and detail;
    /// failures in the error role.
    package static func deliveries(_ entries: [HookDelivery]) -> [StyledLine] {
        entries.map { entry in
            StyledLine(
                "\(Format.time(entry.at))  \(entry.hook) \(entry.event.rawValue) #\(entry.eventId) try \(entry.attempt): "
                    + "\(entry.outcome.rawValue)  \(entry.detail)",
                role: entry.outcome == .delivered ? "ui.text" : "ui.error")
        }
    }
}
