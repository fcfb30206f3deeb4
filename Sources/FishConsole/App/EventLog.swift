public import Foundation
import Synchronization

/// What happened in this console session (loads that failed, promotions, training jobs), newest
/// last; shown in `:logs` and on the overview. Safe to append from any thread.
public final class EventLog: Sendable {
    public struct Entry: Sendable, Equatable {
        public let at: Date
        public let message: String
        public let isError: Bool
    }

    private let entries = Mutex<[Entry]>([])
    private let limit = 500

    public init() {}

    public func add(_ message: String, isError: Bool = false, at date: Date = Date()) {
        entries.withLock {
            $0.append(Entry(at: date, message: message, isError: isError))
            if $0.count > limit { $0.removeFirst($0.count - limit) }
        }
    }

    public var all: [Entry] { entries.withLock { $0 } }
}
