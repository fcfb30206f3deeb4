import FishServer
import FishServices
import Foundation
import Testing

/// The traffic window behind `/v1/stats`: fixed caps whatever the traffic, windows that forget
/// what is older than they cover, and percentiles within a bin of the truth.
struct TrafficWindowTests {
    static func answer(_ index: Int, at time: Date) -> ServerStats.Answer {
        ServerStats.Answer(
            at: time, sha256: String(format: "%064x", index), version: 1, label: index % 4 == 0 ? "sea bass" : "trout",
            confidence: Double(index % 10) / 10 + 0.05, cached: false)
    }

    @Test func hundredThousandRequestsStayWithinTheCaps() {
        let window = TrafficWindow()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        // 100,000 requests over 30 minutes: twice what the window covers.
        for index in 0..<100_000 {
            let time = start.addingTimeInterval(Double(index) * 0.018)
            window.record(index % 50 == 0 ? .error("corrupt_image") : .answered, latency: .milliseconds(5), at: time)
            window.record(Self.answer(index, at: time))
        }
        let end = start.addingTimeInterval(100_000 * 0.018)
        let summary = window.summary(at: end)
        #expect(window.recentCount == TrafficWindow.recentCapacity)
        #expect(summary.recent.answers == TrafficWindow.recentCapacity)
        #expect(summary.recent.lowConfidence.count == TrafficWindow.lowConfidenceCapacity)
        #expect(summary.recent.lowConfidence.allSatisfy { $0.confidence < TrafficWindow.lowConfidenceThreshold })
        // The newest low-confidence answer comes first.
        #expect(summary.recent.lowConfidence.first?.sha256 == String(format: "%064x", (0..<100_000).last { $0 % 10 < 5 } ?? 0))
        // About 55.6 requests a second: the last minute and the last 15 minutes hold only their own.
        #expect(abs(Double(summary.lastMinute.requests) - 60 / 0.018) <= 60)
        #expect(abs(Double(summary.lastQuarterHour.requests) - 900 / 0.018) <= 60)
        #expect(abs(summary.lastMinute.requestsPerSecond - 1 / 0.018) < 1)
        let errors = summary.lastMinute.errors.first { $0.kind == "corrupt_image" }?.count ?? 0
        #expect(abs(Double(errors) - Double(summary.lastMinute.requests) / 50) <= 2)
        #expect(summary.lastMinute.answered + summary.lastMinute.failed == summary.lastMinute.requests)
        #expect(summary.series.requestsPerSecond.count == TrafficWindow.seconds / 10)
        #expect(summary.recent.classMix.map(\.label) == ["trout", "sea bass"])
        #expect(abs((summary.recent.classMix.first?.share ?? 0) - 0.75) < 0.01)
        #expect(summary.recent.confidenceHistogram.reduce(0, +) == TrafficWindow.recentCapacity)
    }

    @Test func windowsForgetWhatIsOlderThanTheyCover() {
        let window = TrafficWindow()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        window.record(.answered, latency: .milliseconds(3), at: now.addingTimeInterval(-20 * 60))
        window.record(.rejected("overloaded"), latency: .milliseconds(1), at: now.addingTimeInterval(-5 * 60))
        window.record(.answered, latency: .milliseconds(3), at: now.addingTimeInterval(-10))
        let summary = window.summary(at: now)
        #expect(summary.lastMinute.requests == 1 && summary.lastMinute.rejections.isEmpty)
        #expect(summary.lastQuarterHour.requests == 2)
        #expect(summary.lastQuarterHour.rejections == [.init(kind: "overloaded", count: 1)])
        // A slot reused 15 minutes later holds only the new second.
        window.record(.answered, latency: .milliseconds(3), at: now.addingTimeInterval(-10 + 900))
        #expect(window.summary(at: now.addingTimeInterval(900)).lastQuarterHour.requests == 1)
        #expect(window.summary(at: now.addingTimeInterval(3600)).lastQuarterHour.latencyMs == nil)
    }

    @Test func percentilesAreWithinABinOfTheTruth() {
        let window = TrafficWindow()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        for milliseconds in 1...1000 { window.record(.answered, latency: .milliseconds(milliseconds), at: now) }
        let latency = window.summary(at: now).lastMinute.latencyMs
        for (measured, truth) in [(latency?.p50, 500.0), (latency?.p95, 950), (latency?.p99, 990)] {
            #expect(abs((measured ?? 0) / truth - 1) < 0.1, "\(measured ?? 0) ms for \(truth) ms")
        }
    }

    @Test func outcomesSortErrorsFromRejections() {
        #expect(TrafficWindow.Outcome(status: 200, code: "http_200") == .answered)
        #expect(TrafficWindow.Outcome(status: 422, code: "corrupt_image") == .error("corrupt_image"))
        #expect(TrafficWindow.Outcome(status: 500, code: "non_finite_output") == .error("non_finite_output"))
        for status in [401, 403, 408, 413, 429, 503] {
            #expect(TrafficWindow.Outcome(status: status, code: "x") == .rejected("x"))
        }
    }
}
