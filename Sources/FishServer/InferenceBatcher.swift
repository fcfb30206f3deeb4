import FishServices
import Foundation
import Prometheus

/// Groups concurrent classification requests into batched forward passes on dedicated threads
/// (never on the server's event loops or Swift's cooperative pool).
///
/// One lane (thread) per core. A lane that is free takes its share of whatever is queued (the queue
/// divided by the number of cores, so a request never waits behind another in a batch while a core
/// could take it), optionally waiting `maxWait` after the oldest request for more, and runs it on
/// one core. A request that arrives alone to an idle server runs on every core, for the lowest
/// latency. The queue is bounded: when it holds `maxQueue`
/// images, `submit` fails at once with `QueueFull` instead of growing without limit.
final class InferenceBatcher: @unchecked Sendable {
    /// How batches are formed.
    struct Options: Sendable {
        var maxBatch = 32
        var maxWait: Duration = .zero
        var maxQueue = 256
        /// Cores used: one lane each.
        var cores = 1
    }

    /// The queue is full: answer 503 and let the client retry.
    struct QueueFull: Error {}

    /// What one request gets back: its logits and where its time went.
    struct Outcome: Sendable {
        let logits: ArraySlice<Float>
        /// The image's embedding (for the drift window).
        let embedding: ArraySlice<Float>
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
    // `jobs`, `idleCores` and `stopping` are guarded by `condition`'s lock; that is what makes the
    // class Sendable.
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var idleCores: Int
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    init(options: Options, metrics: ServerMetrics) {
        var options = options
        options.cores = max(options.cores, 1)
        self.options = options
        self.metrics = metrics
        idleCores = options.cores
        for lane in 0..<options.cores {
            let thread = Thread { [self] in work() }
            thread.name = "fishops-inference-\(lane)"
            thread.start()
        }
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
            metrics.queueDepth.set(to: Double(jobs.count))
            condition.signal()
        }
    }

    /// Images waiting for a forward pass now.
    var queueDepth: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count
    }

    /// Finishes every queued request, then stops the lanes; later submissions fail.
    func shutdown() {
        condition.lock()
        let first = !stopping
        stopping = true
        condition.broadcast()
        condition.unlock()
        if first { for _ in 0..<options.cores { finished.wait() } }
    }

    private func work() {
        var buffer: [Float] = []
        while let (batch, cores) = nextBatch() {
            run(batch, cores: cores, buffer: &buffer)
            condition.lock()
            idleCores += cores
            condition.broadcast()
            condition.unlock()
        }
        finished.signal()
    }

    /// Blocks until there is work and a free core, then takes this lane's share of the queue for
    /// the oldest job's model (jobs for another version wait for the next batch) and the cores to
    /// run it on. Nil once stopping and drained.
    private func nextBatch() -> ([Job], cores: Int)? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            while jobs.isEmpty || idleCores == 0 {
                if stopping, jobs.isEmpty { return nil }
                condition.wait()
            }
            let deadline = Date(timeIntervalSinceNow: (jobs[0].enqueued + options.maxWait - .now).seconds)
            while jobs.count < options.maxBatch, !stopping, condition.wait(until: deadline) {}
            // Another lane may have taken the jobs or the cores meanwhile.
            guard !jobs.isEmpty, idleCores > 0 else { continue }
            let cores = jobs.count == 1 && idleCores == options.cores ? options.cores : 1
            let share = min(options.maxBatch, (jobs.count + options.cores - 1) / options.cores)
            let model = jobs[0].model
            var batch: [Job] = []
            var rest: [Job] = []
            for job in jobs {
                if batch.count < share, job.model.serves(as: model) { batch.append(job) } else { rest.append(job) }
            }
            jobs = rest
            idleCores -= cores
            metrics.queueDepth.set(to: Double(jobs.count))
            return (batch, cores)
        }
    }

    private func run(_ batch: [Job], cores: Int, buffer: inout [Float]) {
        let model = batch[0].model
        let floats = model.inputFloats
        if buffer.count < batch.count * floats { buffer = [Float](repeating: 0, count: options.maxBatch * floats) }
        let start = ContinuousClock.now
        let output = buffer.withUnsafeMutableBufferPointer { whole in
            let inputs = UnsafeMutableBufferPointer(rebasing: whole[0..<(batch.count * floats)])
            for (slot, job) in batch.enumerated() {
                _ = UnsafeMutableBufferPointer(rebasing: inputs[(slot * floats)..<((slot + 1) * floats)]).update(
                    fromContentsOf: job.input)
            }
            return model.scores(UnsafeBufferPointer(inputs), count: batch.count, threads: cores)
        }
        let inferMilliseconds = (ContinuousClock.now - start).milliseconds
        metrics.batchSize.record(Double(batch.count))
        metrics.traffic.recordBatch(size: batch.count)
        metrics.forwardDuration.recordNanoseconds(Int64(inferMilliseconds * 1e6))
        let classes = model.classes
        let width = output.embeddings.count / batch.count
        for (slot, job) in batch.enumerated() {
            job.continuation.resume(
                returning: Outcome(
                    logits: output.logits[(slot * classes)..<((slot + 1) * classes)],
                    embedding: output.embeddings[(slot * width)..<((slot + 1) * width)],
                    queueMilliseconds: (start - job.enqueued).milliseconds,
                    inferMilliseconds: inferMilliseconds, batchSize: batch.count))
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var milliseconds: Double { seconds * 1000 }
}
