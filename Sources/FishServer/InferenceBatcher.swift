import FishServices
import Foundation

/// Groups concurrent classification requests into batched forward passes, run one batch at a time
/// on a dedicated thread (never on the server's event loops or Swift's cooperative pool).
///
/// The worker takes whatever is queued when it becomes free, waiting at most `maxWait` after the
/// first request for more to arrive, so batches grow with load. The queue is bounded: when it holds
/// `maxQueue` images, `submit` fails at once with `QueueFull` instead of growing without limit.
final class InferenceBatcher: @unchecked Sendable {
    /// How batches are formed.
    struct Options: Sendable {
        var maxBatch = 32
        var maxWait: Duration = .milliseconds(2)
        var maxQueue = 256
    }

    /// The queue is full: answer 503 and let the client retry.
    struct QueueFull: Error {}

    /// What one request gets back: its logits and where its time went.
    struct Outcome: Sendable {
        let logits: ArraySlice<Float>
        let queueMilliseconds: Double
        let inferMilliseconds: Double
        let batchSize: Int
    }

    private struct Job {
        let model: LoadedModel
        let input: [Float]
        let enqueued: ContinuousClock.Instant
        let continuation: CheckedContinuation<Outcome, any Error>
    }

    let options: Options
    private let metrics: ServerMetrics
    // `jobs` and `stopping` are guarded by `condition`'s lock; that is what makes the class Sendable.
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    init(options: Options, metrics: ServerMetrics) {
        self.options = options
        self.metrics = metrics
        let thread = Thread { [self] in work() }
        thread.name = "fishops-inference"
        thread.start()
    }

    /// Runs `input` (one preprocessed image) through `model` in the next batch that model serves.
    func submit(_ input: [Float], model: LoadedModel) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard !stopping, jobs.count < options.maxQueue else {
                continuation.resume(throwing: QueueFull())
                return
            }
            jobs.append(Job(model: model, input: input, enqueued: .now, continuation: continuation))
            metrics.queueDepth.record(jobs.count)
            condition.signal()
        }
    }

    /// Finishes every queued request, then stops the worker thread; later submissions fail.
    func shutdown() {
        condition.lock()
        let first = !stopping
        stopping = true
        condition.broadcast()
        condition.unlock()
        if first { finished.wait() }
    }

    private func work() {
        var buffer: [Float] = []
        while let batch = nextBatch() {
            run(batch, buffer: &buffer)
        }
        finished.signal()
    }

    /// Blocks until there is work, then takes up to `maxBatch` jobs for the oldest job's model
    /// (jobs for another version wait for the next batch). Nil once stopping and drained.
    private func nextBatch() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty {
            if stopping { return nil }
            condition.wait()
        }
        let deadline = Date(timeIntervalSinceNow: options.maxWait.seconds)
        while jobs.count < options.maxBatch, !stopping, condition.wait(until: deadline) {}
        let model = jobs[0].model
        var batch: [Job] = [], rest: [Job] = []
        for job in jobs {
            if batch.count < options.maxBatch, job.model.serves(as: model) { batch.append(job) } else { rest.append(job) }
        }
        jobs = rest
        metrics.queueDepth.record(jobs.count)
        return batch
    }

    private func run(_ batch: [Job], buffer: inout [Float]) {
        let model = batch[0].model
        let floats = model.inputFloats
        if buffer.count < batch.count * floats { buffer = [Float](repeating: 0, count: options.maxBatch * floats) }
        let start = ContinuousClock.now
        let output = buffer.withUnsafeMutableBufferPointer { whole in
            let inputs = UnsafeMutableBufferPointer(rebasing: whole[0..<(batch.count * floats)])
            for (slot, job) in batch.enumerated() {
                _ = UnsafeMutableBufferPointer(rebasing: inputs[(slot * floats)..<((slot + 1) * floats)]).update(fromContentsOf: job.input)
            }
            return model.forward(UnsafeBufferPointer(inputs), count: batch.count)
        }
        let inferMilliseconds = (ContinuousClock.now - start).milliseconds
        metrics.batchSize.record(batch.count)
        metrics.forwardDuration.recordNanoseconds(Int64(inferMilliseconds * 1e6))
        let classes = model.classes
        for (slot, job) in batch.enumerated() {
            job.continuation.resume(returning: Outcome(logits: output.logits[(slot * classes)..<((slot + 1) * classes)],
                                                       queueMilliseconds: (start - job.enqueued).milliseconds,
                                                       inferMilliseconds: inferMilliseconds, batchSize: batch.count))
        }
    }
}

extension LoadedModel {
    /// Whether two loaded models are the same served version (and so can share a batch).
    func serves(as other: LoadedModel) -> Bool {
        name == other.name && version == other.version && metadata.weightsSha256 == other.metadata.weightsSha256
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var milliseconds: Double { seconds * 1000 }
}
