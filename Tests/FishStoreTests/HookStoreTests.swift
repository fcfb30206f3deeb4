import FishRecords
import FishStore
import FishTestSupport
import Foundation
import Testing

/// Hook events queued in the store: raised with what raised them, only for the hooks that
/// subscribe, kept until delivered or given up; the delivery log has a cap.
@Suite struct HookStoreTests {
    let actor = ActingUser(user: "ana", host: "h1")

    func store() throws -> Store {
        let store = try Store(directory: try Fixtures.temporaryDirectory())
        for version in 1...2 {
            _ = try store.registerVersion(model: "fish", actor: actor) { _ in ("sha\(version)", "models/fish/\(version)") }
        }
        return store
    }

    @Test func aliasMovesAndRefusalsAreQueuedForTheirSubscribersOnly() throws {
        let store = try store()
        try store.addHook(
            Hook(name: "moves", events: [.aliasMoved], action: .exec(command: "true"), createdAt: Date(), createdBy: "ana"))
        try store.addHook(
            Hook(
                name: "refusals", events: [.promotionRefused], action: .exec(command: "true"), createdAt: Date(), createdBy: "ana"
            ))
        #expect(throws: StoreError.self) {
            try store.addHook(
                Hook(name: "moves", events: [.trainingFailed], action: .exec(command: "x"), createdAt: Date(), createdBy: "ana"))
        }
        _ = try store.moveAlias(
            model: "fish", alias: "production", to: 1, expected: .vacant, action: .promote, actor: actor, reason: "r")
        try store.recordRefusal(
            model: "fish", alias: "production", from: 1, to: 2, action: .promote, actor: actor, reason: "r", detail: "worse")
        // A conflict (the alias moved meanwhile) raises nothing.
        #expect(throws: StoreError.self) {
            try store.moveAlias(
                model: "fish", alias: "production", to: 2, expected: .vacant, action: .promote, actor: actor, reason: "r")
        }
        let due = try store.dueHookEvents()
        #expect(due.map(\.hook.name) == ["moves", "refusals"])
        #expect(due.map(\.event) == [.aliasMoved, .promotionRefused])
        let body = try #require(try JSONSerialization.jsonObject(with: Data(due[0].payload.utf8)) as? [String: Any])
        #expect(body["to_version"] as? Int == 1 && body["delivery_id"] as? Int == Int(due[0].id) && body["from_version"] == nil)
        let refusal = try #require(try JSONSerialization.jsonObject(with: Data(due[1].payload.utf8)) as? [String: Any])
        #expect(refusal["from_version"] as? Int == 1 && refusal["detail"] as? String == "worse")
    }

    @Test func aFailedAttemptWaitsForItsRetryAndTheLogKeepsItsCap() throws {
        let store = try store()
        try store.addHook(
            Hook(name: "h", events: [.trainingFinished], action: .exec(command: "true"), createdAt: Date(), createdBy: "ana"))
        try store.raiseEvent(.trainingFinished, payload: ["run_id": "r1"])
        let event = try #require(try store.dueHookEvents().first)
        try store.recordHookAttempt(event, outcome: .failed, detail: "refused", retryAt: Date().addingTimeInterval(60))
        #expect(try store.dueHookEvents().isEmpty)  // not due for a minute
        let again = try #require(try store.dueHookEvents(ignoringBackoff: true).first)
        #expect(again.attempts == 1 && again.id == event.id)
        try store.recordHookAttempt(again, outcome: .delivered, detail: "exit 0", retryAt: nil)
        #expect(try store.queuedHookEvents() == 0)
        #expect(try store.hookDeliveries(limit: 10).map(\.outcome) == [.failed, .delivered])
        #expect(try store.hookDeliveries(limit: 10).map(\.attempt) == [1, 2])

        // The log keeps the newest hookDeliveryLogLimit attempts, however many are made.
        try store.raiseEvent(.trainingFinished, payload: [:])
        let busy = try #require(try store.dueHookEvents().first)
        for _ in 0..<(Store.hookDeliveryLogLimit + 20) {
            try store.recordHookAttempt(busy, outcome: .failed, detail: "down", retryAt: Date())
        }
        let log = try store.hookDeliveries(limit: Store.hookDeliveryLogLimit * 2)
        #expect(log.count == Store.hookDeliveryLogLimit)
        #expect(log.allSatisfy { $0.eventId == busy.id })

        // Removing a hook drops what waits for it.
        try store.removeHook("h")
        #expect(try store.queuedHookEvents() == 0)
        #expect(throws: StoreError.self) { try store.removeHook("h") }
    }
}
