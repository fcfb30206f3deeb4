import Foundation

/// CPU and memory of a running process, read from `/proc` (Linux).
struct ProcessStats: Sendable {
    private var lastTicks: [Int32: (ticks: Int, at: Date)] = [:]
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// CPU% since the previous sample of `pid` (100 = one core) and resident memory in bytes.
    mutating func sample(_ pid: Int32) -> (cpuPercent: Double?, rssBytes: Int?) {
        let now = Date()
        var cpu: Double?
        if let ticks = Self.cpuTicks(pid) {
            if let previous = lastTicks[pid], now.timeIntervalSince(previous.at) > 0 {
                cpu = Double(ticks - previous.ticks) / Self.ticksPerSecond / now.timeIntervalSince(previous.at) * 100
            }
            lastTicks[pid] = (ticks, now)
        }
        return (cpu, Self.residentBytes(pid))
    }

    mutating func forget(_ pid: Int32) {
        lastTicks[pid] = nil
    }

    /// utime + stime of `pid` in clock ticks.
    private static func cpuTicks(_ pid: Int32) -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }

    private static func residentBytes(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        return kilobytes * 1024
    }
}
