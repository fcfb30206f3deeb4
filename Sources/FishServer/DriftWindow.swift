package import FishServices
import Foundation
package import Prometheus
import Synchronization

/// The served version's recent uncached answers, compared with its training data: a ring of the
/// last `capacity` images' coordinates on the reference's components, their top-1 classes and
/// confidences, checked with `DriftCheck` on a background thread at most every `interval`, when
/// new answers came in (as they arrive, and when `/v1/stats` asks). A version without a reference
/// has no window.
package final class DriftWindow: Sendable {
    /// Images the window holds.
    package static let capacity = 500

    private struct Entry {
        let projection: [Double]
        let top: Int
        let confidence: Double
    }

    private struct State {
        /// The version the window is for, and its reference.
        var version: Int?
        var reference: DriftReference?
        var entries: [Entry] = []
        var next = 0
        /// Answers recorded since the last check.
        var fresh = 0
        var checking = false
        var lastCheck: ContinuousClock.Instant?
        var status: ServerStats.Drift?
    }

    let interval: Duration
    private let state = Mutex(State())
    private let gauges: DriftGauges
    /// Called (on a background thread) when a check of `version` turns to drift.
    private let onDrift: @Sendable (_ version: Int, _ check: DriftCheck) -> Void

    package init(
        interval: Duration, registry: PrometheusCollectorRegistry,
        onDrift: @escaping @Sendable (_ version: Int, _ check: DriftCheck) -> Void = { _, _ in }
    ) {
        self.interval = interval
        gauges = DriftGauges(registry: registry)
        self.onDrift = onDrift
    }

    /// Starts a new window for `model` (its reference read from its package; none when it has
    /// none or it cannot be read).
    package func reset(for model: LoadedModel) {
        let reference = (try? DriftReference.load(packageDirectory: model.packageDirectory)) ?? nil
        state.withLock { $0 = State(version: model.version, reference: reference) }
        gauges.show(nil)
    }

    /// Records one uncached answer of `model`; starts a check when one is due.
    package func record(embedding: ArraySlice<Float>, top: Int, confidence: Double, model: LoadedModel) {
        state.withLock { state in
            guard state.version == model.version, let reference = state.reference, embedding.count == reference.dimension else {
                return
            }
            let entry = Entry(projection: reference.project(embedding), top: top, confidence: confidence)
            if state.entries.count < Self.capacity {
                state.entries.append(entry)
            } else {
                state.entries[state.next] = entry
                state.next = (state.next + 1) % Self.capacity
            }
            state.fresh += 1
        }
        checkIfDue()
    }

    /// What `/v1/stats` says about drift: nil when the served version has no reference. Asking
    /// starts a check when one is due, so answers after the last check are not left unchecked.
    package var status: ServerStats.Drift? {
        checkIfDue()
        return state.withLock { state in
            guard let reference = state.reference else { return nil }
            var status =
                state.status
                ?? ServerStats.Drift(
                    version: state.version ?? 0, checkedAt: nil, check: nil,
                    waitingFor: max(DriftCheck.minimumImages - state.entries.count, 0))
            status.testClassMix = zip(reference.classNames, reference.classShares).map {
                ServerStats.ClassShare(label: $0, share: $1)
            }
            return status
        }
    }

    /// Checks the window on a background thread when answers came in since the last check, it
    /// holds enough of them, no check is running and the last one is `interval` old.
    private func checkIfDue() {
        let due = state.withLock { state -> (DriftReference, [Entry], Int)? in
            let now = ContinuousClock.now
            guard let reference = state.reference, let version = state.version, state.fresh > 0, !state.checking,
                state.entries.count >= DriftCheck.minimumImages, state.lastCheck.map({ now - $0 >= interval }) ?? true
            else { return nil }
            state.checking = true
            state.lastCheck = now
            state.fresh = 0
            return (reference, state.entries, version)
        }
        guard let (reference, entries, version) = due else { return }
        DispatchQueue.global(qos: .utility).async { [self] in
            let check = DriftCheck.run(
                reference, projections: entries.map(\.projection), topClasses: entries.map(\.top),
                confidences: entries.map(\.confidence))
            let (current, turned) = state.withLock { state -> (Bool, Bool) in
                state.checking = false
                guard state.version == version else { return (false, false) }
                let before = state.status?.check?.verdict
                state.status = ServerStats.Drift(version: version, checkedAt: Date(), check: check)
                return (true, check.verdict == .drift && before != .drift)
            }
            if current { gauges.show(check) }
            if turned { onDrift(version, check) }
        }
    }

    /// Images the window holds now (at most `capacity`).
    package var count: Int { state.withLock { $0.entries.count } }
}

/// The drift gauges of `/metrics`.
private struct DriftGauges: Sendable {
    let verdict, mmdP, ksP, mixP, confidenceDrop, images: Prometheus.Gauge

    init(registry: PrometheusCollectorRegistry) {
        func gauge(_ name: String, _ help: String) -> Prometheus.Gauge {
            registry.makeGauge(
                descriptor: .fishops(name, unit: "", subsystem: "drift", help: help))
        }
        verdict = gauge("verdict", "The last drift check: 0 none, 1 warning, 2 drift, -1 no check yet.")
        mmdP = gauge("mmd_p_value", "The MMD test's permutation p-value.")
        ksP = gauge("ks_p_value", "The smallest Kolmogorov-Smirnov p-value over the components, Bonferroni-corrected.")
        mixP = gauge("class_mix_p_value", "The chi-square p-value of the class mix against the test split's.")
        confidenceDrop = gauge("confidence_drop", "The test split's mean top-1 confidence minus the window's.")
        images = gauge("window_images", "Images in the last drift check.")
    }

    func show(_ check: DriftCheck?) {
        guard let check, check.verdict != .insufficient else {
            verdict.set(to: -1)
            return
        }
        verdict.set(to: check.verdict == .drift ? 2 : check.verdict == .warning ? 1 : 0)
        mmdP.set(to: check.mmdPValue)
        ksP.set(to: check.ksPValue)
        mixP.set(to: check.classMixPValue)
        confidenceDrop.set(to: check.referenceConfidence - check.meanConfidence)
        images.set(to: Double(check.images))
    }
}
