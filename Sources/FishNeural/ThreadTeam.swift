import CKernels

/// A fixed team of threads for the short parallel loops of one single-image forward pass: its
/// helpers spin between loops instead of being woken for each (`fish_team.h`). One loop at a
/// time: a team belongs to one forward pass at a time (the engine keeps one per workspace).
public final class ThreadTeam: @unchecked Sendable {
    public let size: Int
    private let team: OpaquePointer?

    /// A team of `size` threads, the caller included; a team that could not start its helpers
    /// runs every loop on the caller.
    public init(size: Int) {
        team = size > 1 ? fish_team_create(Int32(size)) : nil
        self.size = team == nil ? 1 : size
    }

    deinit { fish_team_destroy(team) }

    /// Splits `0..<count` into `chunks` (at least `parts`) contiguous, even ranges and runs `body`
    /// on each, on at most `parts` threads in parallel. Each thread starts on its own share of the
    /// ranges, in order, and one that runs out early takes ranges left in another's share (see
    /// `fish_team_run`), so more chunks even out threads that run at different speeds.
    public func ranges(
        _ count: Int, parts requested: Int, chunks requestedChunks: Int? = nil,
        _ body: (Range<Int>) -> Void
    ) {
        let parts = min(requested, size, count)
        guard parts > 1, let team else {
            if count > 0 { body(0..<count) }
            return
        }
        let chunks = min(max(requestedChunks ?? parts, parts), count)
        withoutActuallyEscaping(body) { body in
            var job = Job(count: count, chunks: chunks, body: body)
            withUnsafeMutablePointer(to: &job) { pointer in
                fish_team_run(
                    team, Int32(parts), Int32(chunks),
                    { context, chunk in
                        guard let job = context?.assumingMemoryBound(to: Job.self).pointee else { return }
                        let chunk = Int(chunk)
                        job.body((job.count * chunk / job.chunks)..<(job.count * (chunk + 1) / job.chunks))
                    }, pointer)
            }
        }
    }

    private struct Job {
        let count: Int
        let chunks: Int
        let body: (Range<Int>) -> Void
    }
}
