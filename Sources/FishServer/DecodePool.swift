import Foundation

/// Threads of their own for the CPU work of reading uploads (multipart parsing, decoding,
/// resizing), so that no upload occupies Swift's cooperative pool, which answers health checks,
/// readiness and metrics. The queue is bounded, and a job that has waited past its deadline
/// fails without running.
final class DecodePool: @unchecked Sendable {
    /// The queue is full: answer 503 and let the client retry.
    struct Full: Error {}
    /// The job waited longer than its deadline before a thread was free.
    struct Expired: Error {}

    private struct Job {
        let deadline: ContinuousClock.Instant
        let run: () -> Void
        let expire: () -> Void
    }

    private let maxQueue: Int
    // `jobs` and `stopping` are guarded by `condition`'s lock; that is what makes the class Sendable.
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var stopping = false

    /// `threads` threads that take jobs in order; at most `maxQueue` jobs wait.
    init(threads: Int, maxQueue: Int) {
        self.maxQueue = max(maxQueue, 1)
        for index in 0..<max(threads, 1) {
            let thread = Thread { [self] in work() }
            thread.name = "fishops-decode-\(index)"
            thread.start()
        }
    }

    /// Runs `work` on one of the pool's threads, unless `timeout` passes before one is free.
    func run<T: Sendable>(timeout: Duration, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let job = Job(
                deadline: .now + timeout,
                run: { continuation.resume(with: Result { try work() }) },
                expire: { continuation.resume(throwing: Expired()) })
            condition.lock()
            defer { condition.unlock() }
            guard !stopping, jobs.count < maxQueue else {
                continuation.resume(throwing: Full())
                return
            }
            jobs.append(job)
            condition.signal()
        }
    }

    /// Fails the waiting jobs and stops the threads once they finish what they are running.
    func shutdown() {
        condition.lock()
        stopping = true
        let waiting = jobs
        jobs = []
        condition.broadcast()
        condition.unlock()
        for job in waiting { job.expire() }
    }

    private func work() {
        while let job = next() {
            if ContinuousClock.now > job.deadline { job.expire() } else { job.run() }
        }
    }

    private func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty {
            if stopping { return nil }
            condition.wait()
        }
        return jobs.removeFirst()
    }
}
