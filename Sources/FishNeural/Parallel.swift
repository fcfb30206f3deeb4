import Dispatch

/// Data-parallel loops over index ranges on Dispatch's thread pool. The caller guarantees
/// that different indices touch different memory.
public enum Parallel {
    /// Splits `0..<count` into at most `threads` contiguous ranges and runs `body` on each in
    /// parallel: on `team` when given (for the many short loops of one forward pass; there in
    /// `chunks` smaller ranges the threads share out as they go, see `ThreadTeam.ranges`), else on
    /// Dispatch's pool.
    public static func ranges(
        _ count: Int, threads: Int, team: ThreadTeam? = nil, chunks: Int? = nil,
        _ body: (Range<Int>) -> Void
    ) {
        if let team { return team.ranges(count, parts: threads, chunks: chunks, body) }
        let parts = min(max(threads, 1), count)
        if parts <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let work = body
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                work((count * part / parts)..<(count * (part + 1) / parts))
            }
        }
    }

    /// Runs `body` for every index in `0..<count`, on at most `threads` threads.
    public static func forEach(_ count: Int, threads: Int, _ body: (Int) -> Void) {
        ranges(count, threads: threads) { range in range.forEach(body) }
    }
}
