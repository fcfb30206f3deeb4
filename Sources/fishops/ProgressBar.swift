import Foundation

/// A one-line progress bar on standard error, for terminals only.
final class ProgressBar {
    private var total: Int
    private let enabled: Bool
    private let label: String
    private let unit: String
    private var done = 0
    private var started = Date()

    init(total: Int, enabled: Bool, label: String = "", unit: String = "images") {
        self.total = total
        self.enabled = enabled
        self.label = label.isEmpty ? "" : label + " "
        self.unit = unit
    }

    /// Counts one more item done and redraws.
    func advance() {
        update(done: done + 1, total: total)
    }

    /// Sets how much is done and redraws.
    func update(done: Int, total: Int) {
        self.done = done
        self.total = total
        guard enabled else { return }
        let width = 30
        let filled = total > 0 ? width * min(done, total) / total : width
        let rate = Double(done) / max(Date().timeIntervalSince(started), 1e-3)
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        write(String(format: "\r%@[%@] %d/%d  %.1f %@/s", label, bar, done, total, rate, unit))
    }

    /// Erases the bar so that other output starts on a clean line.
    func clear() {
        guard enabled else { return }
        write("\r\u{1B}[2K")
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
