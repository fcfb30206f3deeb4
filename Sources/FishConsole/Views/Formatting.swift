import FishServices
import Foundation

/// Text forms shared by the views.
enum Format {
    /// `yyyy-MM-dd HH:mm` in local time (views format many dates per frame: no formatter objects).
    static func date(_ date: Date) -> String {
        let parts = Calendar.current.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(
            format: "%04d-%02d-%02d %02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0,
            parts.minute ?? 0)
    }

    /// `HH:mm:ss` in local time.
    static func time(_ date: Date) -> String {
        let parts = Calendar.current.dateComponents([.hour, .minute, .second], from: date)
        return String(format: "%02d:%02d:%02d", parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }

    static func number(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e9 { return String(Int(value)) }
        return abs(value) >= 1000 || abs(value) < 0.001 ? String(format: "%.3g", value) : String(format: "%.4f", value)
    }

    /// The theme role of a run status.
    static func role(_ status: RunStatus) -> String {
        switch status {
        case .running: return "status.running"
        case .finished: return "status.finished"
        case .failed: return "status.failed"
        case .killed: return "status.killed"
        }
    }
}
