import FishConsole
import Foundation
import Synchronization
import Testing

/// A loader's schedule: failed loads back off (twice the interval per failure in a row, up to a
/// minute) and keep their error for the view; a success resets the wait.
@Suite struct LoaderTests {
    struct StoreDown: Error {}

    /// Loads run so far, counted from the background threads.
    final class Calls: Sendable {
        private let count = Mutex(0)
        var value: Int { count.withLock { $0 } }
        func add() { count.withLock { $0 += 1 } }
    }

    func settled(_ loader: Loader<Int>) async throws -> Date {
        while loader.isLoading { try await Task.sleep(for: .milliseconds(5)) }
        return try #require(loader.snapshot?.at)
    }

    @Test func failedLoadsBackOffAndASuccessResetsTheWait() async throws {
        let loader = Loader<Int>(interval: 2, wake: {})
        let calls = Calls()
        let failing: @Sendable () throws -> Int = {
            calls.add()
            throw StoreDown()
        }
        loader.refresh(force: true, failing)
        var at = try await settled(loader)
        #expect(loader.error is StoreDown && calls.value == 1)

        loader.refreshIfDue(now: at.addingTimeInterval(2), failing)
        #expect(calls.value == 1, "one failure: the next try waits 4 s, not the 2 s interval")
        loader.refreshIfDue(now: at.addingTimeInterval(4), failing)
        at = try await settled(loader)
        #expect(calls.value == 2)

        loader.refreshIfDue(now: at.addingTimeInterval(7), failing)
        #expect(calls.value == 2, "two failures in a row: 8 s")
        loader.refreshIfDue(now: at.addingTimeInterval(8)) {
            calls.add()
            return 42
        }
        at = try await settled(loader)
        #expect(loader.value == 42 && loader.error == nil && calls.value == 3)

        loader.refreshIfDue(now: at.addingTimeInterval(2)) {
            calls.add()
            return 43
        }
        _ = try await settled(loader)
        #expect(calls.value == 4 && loader.value == 43, "after a success the interval is back to 2 s")
    }

    @Test func theBackOffStopsAtAMinute() async throws {
        let loader = Loader<Int>(interval: 5, wake: {})
        let calls = Calls()
        for _ in 0..<8 {
            loader.refresh(force: true) {
                calls.add()
                throw StoreDown()
            }
            _ = try await settled(loader)
        }
        let at = try #require(loader.snapshot?.at)
        loader.refreshIfDue(now: at.addingTimeInterval(59)) {
            calls.add()
            return 1
        }
        #expect(calls.value == 8)
        loader.refreshIfDue(now: at.addingTimeInterval(60)) {
            calls.add()
            return 1
        }
        _ = try await settled(loader)
        #expect(calls.value == 9)
    }
}
