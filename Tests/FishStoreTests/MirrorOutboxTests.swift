import FishRecords
import FishStore
import FishTestSupport
import Foundation
import Testing

/// The outbox a mirroring store writes: one entry per record, in order, in the record's own
/// transaction (nothing for a write that failed), and nothing at all when the store does not mirror.
@Suite struct MirrorOutboxTests {
    let actor = ActingUser(user: "ana", host: "h1")

    @Test func everyRecordIsQueuedInOrderAndFailedWritesQueueNothing() throws {
        let store = try Store(directory: try Fixtures.temporaryDirectory(), mirrors: true)
        let run = try store.startRun(experiment: "fish", user: "ana", host: "h1")
        try store.logParams(run.id, ["lr": "0.1"])
        #expect(throws: StoreError.self) { try store.logParams(run.id, ["lr": "0.2"]) }  // refused: no entry
        try store.logParams(run.id, ["lr": "0.1"])  // already there: nothing new to send
        try store.logMetrics(run.id, [MetricPoint(key: "loss", value: 0.5, step: 1, timestamp: Date())])
        #expect(throws: StoreError.self) {
            try store.registerVersion(model: "fish", sourceRunId: run.id, actor: actor) { _ in
                throw StoreError.invalid("the package could not be written")
            }
        }
        let version = try store.registerVersion(model: "fish", sourceRunId: run.id, actor: actor) { _ in ("abc", "models/fish/1")
        }
        _ = try store.moveAlias(
            model: "fish", alias: "production", to: 1, expected: .vacant, action: .promote, actor: actor, reason: "first")
        try store.endRun(run.id, status: .finished)

        let entries = try store.pendingMirrorEntries(limit: 100)
        let kinds = entries.map { entry -> String in
            switch entry.event {
            case .runStarted?: return "run"
            case .params?: return "params"
            case .metrics?: return "metrics"
            case let .versionRegistered(registered)?: return registered == version ? "version" : "other version"
            case let .audit(audit)?: return "audit \(audit.action.rawValue)"
            case .runEnded?: return "end"
            default: return "other"
            }
        }
        #expect(kinds == ["run", "params", "metrics", "version", "audit register_version", "audit promote", "end"])
        #expect(entries.map(\.id) == entries.map(\.id).sorted())
        #expect(try store.mirrorBacklog().pending == 7)

        try store.markMirrorEntrySent(entries[0].id)
        try store.rejectMirrorEntry(entries[1].id, reason: "too long")
        let backlog = try store.mirrorBacklog()
        #expect(backlog.pending == 5 && backlog.rejected == 1 && backlog.lastRejection == "too long")
        #expect(try store.pendingMirrorEntries(limit: 1).first?.id == entries[2].id)
        #expect(try store.retryRejectedMirrorEntries() == 1)
        #expect(try store.pendingMirrorEntries(limit: 1).first?.id == entries[1].id)
    }

    @Test func aStoreThatDoesNotMirrorQueuesNothing() throws {
        let folder = try Fixtures.temporaryDirectory()
        let store = try Store(directory: folder)
        let run = try store.startRun(experiment: "fish", user: "ana", host: "h1")
        try store.logMetrics(run.id, [MetricPoint(key: "loss", value: 0.5, step: 1, timestamp: Date())])
        try store.endRun(run.id, status: .finished)
        #expect(try store.mirrorBacklog().pending == 0)
        #expect(store.outboxEntriesWritten == 0)
        // Mirroring starts when it is turned on, with what is written from then.
        let mirrored = try Store(directory: folder, mirrors: true)
        try mirrored.setTags(run.id, ["note": "late"])
        #expect(try mirrored.pendingMirrorEntries(limit: 10).map(\.event) == [.tags(runId: run.id, ["note": "late"])])
        #expect(mirrored.outboxEntriesWritten == 1)
    }
}
