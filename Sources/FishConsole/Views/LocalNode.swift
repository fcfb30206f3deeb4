import Foundation

/// CPU and memory of this machine, read from /proc.
package struct LocalNode: Sendable {
    package let cores: Int
    package let load: Double
    package let totalGiB: Double
    package let availableGiB: Double

    package init(cores: Int, load: Double, totalGiB: Double, availableGiB: Double) {
        (self.cores, self.load, self.totalGiB, self.availableGiB) = (cores, load, totalGiB, availableGiB)
    }

    package static func read() -> LocalNode {
        let load =
            (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.flatMap { Double($0) }
            ?? 0
        var memory: [String: Double] = [:]
        for line in ((try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, let kibibytes = Double(parts[1]) { memory[String(parts[0].dropLast())] = kibibytes / 1_048_576 }
        }
        return LocalNode(
            cores: ProcessInfo.processInfo.activeProcessorCount, load: load,
            totalGiB: memory["MemTotal"] ?? 0, availableGiB: memory["MemAvailable"] ?? 0)
    }
}
