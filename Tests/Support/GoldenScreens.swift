public import Foundation

/// Golden screen files: a screen's text, with what changes between runs masked, compared with a
/// file kept in the repository (`FISHOPS_RECORD_GOLDEN=1` writes the file instead).
public enum GoldenScreens {
    /// What changes between runs on every screen: dates and times, run ids, this machine's load.
    public static let masks: [(pattern: String, replacement: String)] = [
        (#"\d{4}-\d\d-\d\d \d\d:\d\d"#, "YYYY-MM-DD hh:mm"), (#"\d\d:\d\d:\d\d"#, "hh:mm:ss"),
        (#"\b[0-9a-f]{12}\b"#, "<run-id-----"), (#"\d+ cores, load [\d.]+ *"#, "N cores, load L "),
        (#"memory [\d.]+ of [\d.]+ GiB free *"#, "memory M of T GiB free "),
        (#"\S+ +\d+/\d+ workers busy +\d+ +\d+ +[\d.]+ +\d+ *"#, "<this machine: workers, cpus, load, memory> "),
    ]

    /// `text` with `masks` and then `extra` replaced (regular expressions).
    public static func normalised(_ text: String, extra: [(pattern: String, replacement: String)] = []) -> String {
        (masks + extra).reduce(text) { text, mask in
            text.replacingOccurrences(of: mask.pattern, with: mask.replacement, options: .regularExpression)
        }
    }

    /// Compares `text` (already normalised) with `folder/NAME.txt`: nil when they agree (or the
    /// file was recorded), else what is wrong.
    public static func mismatch(_ text: String, named name: String, in folder: URL) -> String? {
        let file = folder.appendingPathComponent("\(name).txt")
        let text = text + "\n"
        if ProcessInfo.processInfo.environment["FISHOPS_RECORD_GOLDEN"] == "1" {
            do { try text.write(to: file, atomically: true, encoding: .utf8) } catch {
                return "cannot record \(file.path): \(error)"
            }
            return nil
        }
        guard let golden = try? String(contentsOf: file, encoding: .utf8) else {
            return "no golden file \(file.lastPathComponent); record it with FISHOPS_RECORD_GOLDEN=1 swift test"
        }
        return text == golden ? nil : "screen differs from \(file.lastPathComponent):\n\(text)"
    }
}
