package import FishServices
package import Foundation
import Synchronization

/// The server's recent traffic, for `/v1/stats`: per-second counts and latency histograms over the
/// last 15 minutes, batch sizes, and a ring of the latest answers. Everything is allocated up
/// front and fixed in size, however much traffic arrives.
package final class TrafficWindow: Sendable {
    /// Seconds the window covers.
    package static let seconds = 900
    /// Answers the recent-answer ring keeps.
    package static let recentCapacity = 1000
    /// Low-confidence answers kept (newest first).
    package static let lowConfidenceCapacity = 20
    /// Top-1 confidence below which an answer counts as low-confidence.
    package static let lowConfidenceThreshold = 0.5
    /// Steps of the `/v1/stats` series.
    static let seriesStep = 10

    /// Latency bins a quarter octave wide from 0.1 ms: bin `b` holds [0.1·2^(b/4), 0.1·2^((b+1)/4)) ms,
    /// so a percentile is within 9% of the true one; the last bin holds everything above 100 s.
    static let latencyBins = 81

    /// How a classification request ended.
    package enum Outcome: Sendable, Equatable {
        case answered
        case error(String)
        case rejected(String)

        /// The outcome of an answer with `status` and error `code`.
        package init(status: Int, code: String) {
            if status < 400 {
                self = .answered
            } else if [401, 403, 408, 413, 429, 503].contains(status) {
                self = .rejected(code)
            } else {
                self = .error(code)
            }
        }
    }

    private struct Second {
        /// The Unix second this slot holds (slots of older seconds are reused).
        var second = Int.min
        var requests = 0
        var answered = 0
        var errors: [String: Int] = [:]
        var rejections: [String: Int] = [:]
        var latency = [UInt32](repeating: 0, count: TrafficWindow.latencyBins)
    }

    private struct State {
        var seconds = [Second](repeating: Second(), count: TrafficWindow.seconds)
        var recent: [ServerStats.Answer] = []
        /// Where the next answer goes once `recent` is full.
        var recentNext = 0
        var lowConfidence: [ServerStats.Answer] = []
        var batchSizes: [Int: Int] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    /// Counts one classification request that took `latency`.
    package func record(_ outcome: Outcome, latency: Duration, at time: Date = Date()) {
        let second = Int(time.timeIntervalSince1970.rounded(.down))
        let bin = Self.bin(milliseconds: latency.milliseconds)
        state.withLock { state in
            let slot = Self.slot(second)
            if state.seconds[slot].second != second { state.seconds[slot] = Second(second: second) }
            state.seconds[slot].requests += 1
            state.seconds[slot].latency[bin] += 1
            switch outcome {
            case .answered: state.seconds[slot].answered += 1
            case let .error(kind): state.seconds[slot].errors[kind, default: 0] += 1
            case let .rejected(kind): state.seconds[slot].rejections[kind, default: 0] += 1
            }
        }
    }

    /// Keeps one image's answer among the recent ones.
    package func record(_ answer: ServerStats.Answer) {
        state.withLock { state in
            if state.recent.count < Self.recentCapacity {
                state.recent.append(answer)
            } else {
                state.recent[state.recentNext] = answer
                state.recentNext = (state.recentNext + 1) % Self.recentCapacity
            }
            if answer.confidence < Self.lowConfidenceThreshold {
                state.lowConfidence.insert(answer, at: 0)
                if state.lowConfidence.count > Self.lowConfidenceCapacity { state.lowConfidence.removeLast() }
            }
        }
    }

    /// Counts one forward pass of `size` images.
    package func recordBatch(size: Int) {
        state.withLock { $0.batchSizes[size, default: 0] += 1 }
    }

    /// The windows, series, batches and recent answers as of `time`.
    package func summary(at time: Date = Date()) -> (
        lastMinute: ServerStats.Window, lastQuarterHour: ServerStats.Window,
        series: ServerStats.Series, batches: ServerStats.Batches, recent: ServerStats.Recent
    ) {
        let now = Int(time.timeIntervalSince1970.rounded(.down))
        // Computed outside the lock on a copy (the arrays are shared until the next write).
        let state = self.state.withLock { $0 }
        let current = { (second: Int) -> Second? in
            let slot = state.seconds[Self.slot(second)]
            return slot.second == second ? slot : nil
        }
        let window = { (length: Int) -> ServerStats.Window in
            Self.window(((now - length + 1)...now).compactMap(current), seconds: length)
        }
        let steps = Self.seconds / Self.seriesStep
        var rates: [Double] = []
        var p95: [Double?] = []
        for step in 0..<steps {
            let end = now - (steps - 1 - step) * Self.seriesStep
            let seconds = ((end - Self.seriesStep + 1)...end).compactMap(current)
            let summary = Self.window(seconds, seconds: Self.seriesStep)
            rates.append(summary.requestsPerSecond)
            p95.append(summary.latencyMs?.p95)
        }
        let passes = state.batchSizes.values.reduce(0, +)
        let images = state.batchSizes.reduce(0) { $0 + $1.key * $1.value }
        let batches = ServerStats.Batches(
            count: passes, meanSize: passes > 0 ? Double(images) / Double(passes) : nil,
            sizes: state.batchSizes.sorted { $0.key < $1.key }.map { .init(size: $0.key, count: $0.value) })
        return (
            window(60), window(Self.seconds),
            ServerStats.Series(stepSeconds: Self.seriesStep, requestsPerSecond: rates, p95Ms: p95),
            batches, Self.recent(state.recent, lowConfidence: state.lowConfidence)
        )
    }

    /// Answers held in the recent ring (at most `recentCapacity`).
    package var recentCount: Int { state.withLock { $0.recent.count } }

    private static func slot(_ second: Int) -> Int { ((second % seconds) + seconds) % seconds }

    static func bin(milliseconds: Double) -> Int {
        guard milliseconds > 0.1 else { return 0 }
        return min(Int(4 * log2(milliseconds / 0.1)), latencyBins - 1)
    }

    /// The geometric middle of a latency bin, in milliseconds.
    static func binMiddle(_ bin: Int) -> Double { 0.1 * pow(2, (Double(bin) + 0.5) / 4) }

    private static func window(_ seconds: [Second], seconds length: Int) -> ServerStats.Window {
        var errors: [String: Int] = [:]
        var rejections: [String: Int] = [:]
        var latency = [Int](repeating: 0, count: latencyBins)
        for second in seconds {
            errors.merge(second.errors, uniquingKeysWith: +)
            rejections.merge(second.rejections, uniquingKeysWith: +)
            for (bin, count) in second.latency.enumerated() { latency[bin] += Int(count) }
        }
        let requests = seconds.reduce(0) { $0 + $1.requests }
        let counts = { (kinds: [String: Int]) in
            kinds.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { ServerStats.KindCount(kind: $0.key, count: $0.value) }
        }
        return ServerStats.Window(
            seconds: length, requests: requests, answered: seconds.reduce(0) { $0 + $1.answered },
            errors: counts(errors), rejections: counts(rejections), requestsPerSecond: Double(requests) / Double(length),
            latencyMs: requests > 0
                ? ServerStats.Latency(
                    p50: percentile(0.5, latency, requests), p95: percentile(0.95, latency, requests),
                    p99: percentile(0.99, latency, requests)) : nil)
    }

    /// The latency below which `fraction` of the `total` requests fall.
    private static func percentile(_ fraction: Double, _ bins: [Int], _ total: Int) -> Double {
        let rank = max(Int((fraction * Double(total)).rounded(.up)), 1)
        var seen = 0
        for (bin, count) in bins.enumerated() {
            seen += count
            if seen >= rank { return binMiddle(bin) }
        }
        return binMiddle(latencyBins - 1)
    }

    private static func recent(_ answers: [ServerStats.Answer], lowConfidence: [ServerStats.Answer]) -> ServerStats.Recent {
        var mix: [String: Int] = [:]
        var histogram = [Int](repeating: 0, count: 10)
        for answer in answers {
            mix[answer.label, default: 0] += 1
            histogram[min(max(Int(answer.confidence * 10), 0), 9)] += 1
        }
        let total = Double(max(answers.count, 1))
        return ServerStats.Recent(
            answers: answers.count,
            classMix: mix.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map {
                .init(label: $0.key, share: Double($0.value) / total)
            },
            meanConfidence: answers.isEmpty ? nil : answers.reduce(0) { $0 + $1.confidence } / total,
            confidenceHistogram: histogram, lowConfidenceThreshold: lowConfidenceThreshold, lowConfidence: lowConfidence)
    }
}
