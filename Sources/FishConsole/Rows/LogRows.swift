/// What `:logs` and the overview's events box show: the session's event log, errors in the error role.
package enum LogRows {
    /// One line per entry, oldest first, prefixed with the time when `timed`.
    package static func events(_ entries: some Sequence<EventLog.Entry>, timed: Bool) -> [StyledLine] {
        entries.map { entry in
            StyledLine(
                timed ? "\(Format.time(entry.at))  \(entry.message)" : entry.message, role: entry.isError ? "ui.error" : "ui.text"
            )
        }
    }
}
