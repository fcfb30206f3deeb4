import FishServices
import Foundation

/// Text forms of the serving views.
enum ServeFormat {
    /// A server's URL without `http://`.
    static func address(_ url: String) -> String {
        url.hasPrefix("http://") ? String(url.dropFirst(7)) : url
    }

    /// A model name cut to 8 characters (`imagene~`), to leave room for its version.
    static func shortModel(_ name: String) -> String { name.count > 8 ? String(name.prefix(7)) + "~" : name }

    /// A drift verdict in a few letters: `-` without a reference, `wait` before the first check.
    static func drift(_ drift: ServerStats.Drift?) -> String {
        guard let drift else { return "-" }
        guard let check = drift.check else { return "wait" }
        switch check.verdict {
        case .none: return "none"
        case .warning: return "warn"
        case .drift: return "DRIFT"
        case .insufficient: return "few"
        }
    }

    static func rate(_ perSecond: Double) -> String {
        perSecond >= 100 ? String(format: "%.0f", perSecond) : String(format: "%.1f", perSecond)
    }

    /// The theme role of a server's row.
    static func role(_ server: ServingService.Server) -> String {
        switch server.state {
        case .alive: return server.problem == nil ? "table.row" : "status.failed"
        case .stale: return "ui.stale"
        case .gone: return "ui.muted"
        case .unreachable: return "status.failed"
        }
    }
}
