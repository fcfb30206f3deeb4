import Dispatch
import Foundation
import Synchronization

/// Fetches a view's data off the UI thread. A request while one is in flight is dropped; the UI
/// reads the latest snapshot without waiting, and data older than twice the refresh interval
/// counts as stale.
public final class Loader<Value: Sendable>: Sendable {
    /// The latest result and when it arrived.
    public struct Snapshot: Sendable {
        public let result: Result<Value, any Error>
        public let at: Date
    }

    private struct State {
        var snapshot: Snapshot?
        var inFlight = false
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
            state.withLock { $0 = State(snapshot: Snapshot(result: result, at: Date()), inFlight: false) }
            activity?.end()
            wake()
        }
        return true
    }

    /// Loads when the last load is older than the interval (or there is none).
    public func refreshIfDue(now: Date = Date(), _ work: @escaping @Sendable () throws -> Value) {
        let due = state.withLock { state in
            !state.inFlight && (state.snapshot.map { now.timeIntervalSince($0.at) >= interval } ?? true)
        }
        if due { load(work) }
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
