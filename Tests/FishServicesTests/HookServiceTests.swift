import FishServices
import FishStore
import FishTestSupport
import Foundation
import Testing

/// The hook queue is bounded: an event whose hook keeps failing is given up after
/// `HookService.maxAttempts` attempts and leaves the queue, each attempt logged.
@Suite struct HookServiceTests {
    @Test func anEventIsGivenUpAfterTheLastAttemptAndLeavesTheQueue() throws {
        let context = try ServiceContext(config: FishConfig(home: try Fixtures.temporaryDirectory(), threads: 1))
        let hooks = HookService(context: context)
        try hooks.add(name: "broken", events: ["training_failed"], exec: "echo no; exit 3", post: nil)
        try context.store.raiseEvent(.trainingFailed, payload: ["run_id": "r1"])
        var outcomes: [HookDelivery.Outcome] = []
        for _ in 0..<(HookService.maxAttempts + 2) {
            outcomes += try hooks.deliver(ignoringBackoff: true).map(\.outcome)
        }
        #expect(outcomes == Array(repeating: .failed, count: HookService.maxAttempts - 1) + [.gaveUp])
        #expect(try hooks.pending() == 0)
        let log = try hooks.log(limit: 100)
        #expect(log.map(\.attempt) == Array(1...HookService.maxAttempts))
        #expect(log.last?.detail == "exit 3: no")
    }
}
