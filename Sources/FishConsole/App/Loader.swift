import Dispatch
public import Foundation
import Synchronization

/// Fetches a view's data off the UI thread. A request while one is in flight is dropped; the UI
/// reads the latest snapshot without waiting, and data older than twice the refresh interval
/// counts as stale. After failed loads the next automatic one waits longer (twice the interval per
/// failure in a row, up to a minute), so a store that is down is not asked again on every refresh.
public final class Loader<Value: Sendable>: Sendable {
    /// The latest result and when it arrived.
    public struct Snapshot: Sendable {
        public let result: Result<Value, any Error>
        public let at: Date
    }

    private struct State {
        var snapshot: Snapshot?
        var inFlight = false
        /// Loads in a row that failed.
        var failures = 0
    }

    private let state = Mutex(State())
    private let wake: @Sendable () -> Void
    private let activity: Activity?
    /// Seconds between automatic refreshes while the view is visible.
    public let interval: TimeInterval

    /// `wake` is called (from a background thread) when new data arrives; `activity` counts loads in flight.
    public init(interval: TimeInterval, activity: Activity? = nil, wake: @escaping @Sendable () -> Void) {
        self.interval = interval
        self.activity = activity
        self.wake = wake
    }

    public var snapshot: Snapshot? { state.withLock { $0.snapshot } }

    /// The value of the latest successful load.
    public var value: Value? { snapshot.flatMap { try? $0.result.get() } }

    /// The error of the latest load, if it failed.
    public var error: (any Error)? {
        if case let .failure(error)? = snapshot?.result { return error }
        return nil
    }

    public var isLoading: Bool { state.withLock { $0.inFlight } }

    /// True when the data is older than twice the refresh interval.
    public func isStale(now: Date = Date()) -> Bool {
        guard let at = snapshot?.at else { return false }
        return now.timeIntervalSince(at) > 2 * interval
    }

    /// Starts `work` in the background unless a load is in flight; returns whether it started.
    @discardableResult
    public func load(_ work: @escaping @Sendable () throws -> Value) -> Bool {
        let started = state.withLock { state -> Bool in
            if state.inFlight { return false }
            state.inFlight = true
            return true
        }
        guard started else { return false }
        activity?.begin()
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            let result = Result { try work() }
            state.withLock { state in
                let failed = if case .failure = result { true } else { false }
                state = State(
                    snapshot: Snapshot(result: result, at: Date()), inFlight: false, failures: failed ? state.failures + 1 : 0)
            }
            activity?.end()
            wake()
        }
        return true
    }

    /// Loads when the last load is older than the interval, or than the back-off after failures
    /// (or there is none).
    public func refreshIfDue(now: Date = Date(), _ work: @escaping @Sendable () throws -> Value) {
        let due = state.withLock { state in
            !state.inFlight
                && (state.snapshot.map { now.timeIntervalSince($0.at) >= wait(afterFailures: state.failures) } ?? true)
        }
        if due { load(work) }
    }

    /// Loads now when `force` (the operator asked), else when due.
    public func refresh(force: Bool, _ work: @escaping @Sendable () throws -> Value) {
        if force { load(work) } else { refreshIfDue(work) }
    }

    /// The wait before the next automatic load: the interval, doubled per failure in a row up to a minute.
    func wait(afterFailures failures: Int) -> TimeInterval {
        guard failures > 0 else { return interval }
        return max(interval, min(interval * Double(1 << min(failures, 16)), 60))
    }

}

/// How many loads are in flight, across all loaders of a console.
public final class Activity: Sendable {
    private let count = Atomic<Int>(0)

    public init() {}

    func begin() { count.add(1, ordering: .relaxed) }

    func end() { count.subtract(1, ordering: .relaxed) }

    public var isIdle: Bool { count.load(ordering: .relaxed) == 0 }
}
