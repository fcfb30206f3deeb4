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

    /// Splits `0..<count` into at most `parts` contiguous ranges and runs `body` on each, in parallel.
    public func ranges(_ count: Int, parts requested: Int, _ body: (Range<Int>) -> Void) {
        let parts = min(requested, size, count)
        guard parts > 1, let team else {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var job = Job(count: count, parts: parts, body: body)
            withUnsafeMutablePointer(to: &job) { pointer in
                fish_team_run(team, Int32(parts), { context, part in
                    guard let job = context?.assumingMemoryBound(to: Job.self).pointee else { return }
                    let part = Int(part)
                    job.body((job.count * part / job.parts)..<(job.count * (part + 1) / job.parts))
                }, pointer)
            }
        }
    }

    private struct Job {
        let count: Int
        let parts: Int
        let body: (Range<Int>) -> Void
    }
}
