import Foundation
import Synchronization

/// One result slot per parallel task, filled from any thread.
final class ResultSlots<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<Value, any Error>?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ result: Result<Value, any Error>) {
        lock.withLock { slots[index] = result }
    }

    /// Every value in order; the first failure (or a missing result) is thrown.
    func values() throws -> [Value] {
        try lock.withLock {
            try slots.map { slot in
                guard let slot else { throw ServiceError.failed("a parallel task did not finish") }
                return try slot.get()
            }
        }
    }
}

/// A thread-safe count of finished tasks.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)

    /// Adds `amount` and returns the new total.
    func add(_ amount: Int) -> Int {
        value.add(amount, ordering: .relaxed).newValue
    }
}
