import Foundation

/// This process's memory, as the benchmarks report it.
public enum ProcessMemory {
    /// The peak resident set size in megabytes (getrusage reports kilobytes on Linux).
    public static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(rusageSelf, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}

#if os(Linux)
    private let rusageSelf = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
    private let rusageSelf = RUSAGE_SELF
#endif
