import Foundation

/// A one-line progress bar on standard error, for terminals only.
final class ProgressBar {
    private let total: Int
    private let enabled: Bool
    private var done = 0
    private let started = Date()

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
    }

    /// Counts one more item done and redraws.
    func advance() {
        done += 1
        guard enabled else { return }
        let width = 30
        let filled = total > 0 ? width * done / total : width
        let rate = Double(done) / max(Date().timeIntervalSince(started), 1e-3)
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        write(String(format: "\r[%@] %d/%d  %.1f images/s", bar, done, total, rate))
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
