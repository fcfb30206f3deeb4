import Synchronization

/// Set by whoever watches a job (Ctrl-C in the CLI, a key in the console); the job checks it
/// between units of work and stops cleanly.
public final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func cancel() { flag.store(true, ordering: .relaxed) }

    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}
