import Foundation
import FishStore

/// Text forms shared by the views.
enum Format {
    static func date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: date)
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
