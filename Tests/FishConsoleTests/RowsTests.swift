import FishConsole
import FishServices
import Foundation
import Testing

/// The views' row builders, fed with what the services return for the fixture store: no console,
/// no canvas, only values in and rows with theme roles out.
@Suite struct RowsTests {
    @Test func runsSortByBestFollowsEachMetricsDirection() throws {
        let runs = try TrackingService(context: ConsoleFixture.store()).runs()
        let keys = RunsRows.metricKeys(runs)
        #expect(Array(keys.prefix(3)) == ["test_macro_f1", "val_accuracy", "val_loss"])
        func best(_ metric: String) -> [String] {
            let index = keys.firstIndex(of: metric) ?? -1
            return RunsRows.visible(runs, filter: "", sort: "best", metricIndex: index).runs.map(\.run.name)
        }
        // Higher macro-F1 and accuracy are better, lower loss is; a run without the metric goes last.
        #expect(best("test_macro_f1") == ["train-b", "train-a", "train-c"])
        #expect(best("val_accuracy") == ["train-a", "train-b", "train-c"])
        #expect(best("val_loss") == ["train-b", "train-a", "train-c"])
        #expect(RunsRows.metricColumn("val_loss") == "val_loss best / last")
        #expect(RunsRows.metricColumn(nil) == "metrics")
    }

    @Test func runRowsCarryStatusRolesMarksAndFilter() throws {
        let runs = try TrackingService(context: ConsoleFixture.store()).runs()
        let failed = RunsRows.visible(runs, filter: "FAILED", sort: "newest", metricIndex: 0)
        #expect(failed.runs.map(\.run.name) == ["train-c"])
        let all = RunsRows.visible(runs, filter: "", sort: "name", metricIndex: 0)
        let marked: Set<String> = [all.runs[0].run.id]
        let rows = RunsRows.rows(all.runs, metric: all.metric, marked: marked)
        #expect(rows.map(\.role) == ["status.finished", "status.finished", "status.failed"])
        #expect(rows.map(\.marked) == [true, false, false])
        #expect(rows[0].cells[4] == "0.9500 / 0.9500")
        #expect(rows[2].cells[4] == "")
        #expect(RunsRows.title(count: 3, sort: "name", filter: "", marked: 1) == "runs (3)  sort: name  marked: 1")
    }

    @Test func versionsAndHistoryRows() throws {
        let context = try ConsoleFixture.store()
        let registry = RegistryService(context: context)
        let versions = try registry.detail(model: "fish-classifier").versions.reversed()
        let rows = RegistryRows.versions(Array(versions), gateMetric: "macro_f1")
        #expect(rows.map { $0.cells[0] } == ["v2", "v1"])
        #expect(rows.map(\.role) == ["table.row", "metric.best"])
        #expect(rows[0].cells[4] == "macro_f1 0.9700 on test:0123456789abcdef")
        #expect(RegistryRows.versions(Array(versions), gateMetric: "recall").map { $0.cells[4] } == ["", ""])

        var history = try registry.history(model: "fish-classifier")
        let refused = AuditEntry(
            id: nil, at: Date(), actor: "tester", host: "lab", model: "fish-classifier", action: .promote,
            alias: "production", fromVersion: 1, toVersion: 2, outcome: .refused, reason: "gate", detail: "")
        history.append(refused)
        let historyRows = RegistryRows.history(history)
        #expect(historyRows.first?.cells[2...4] == ["promote production", "v1>v2", "refused"])
        #expect(historyRows.first?.role == "status.failed")
        #expect(historyRows.dropFirst().allSatisfy { $0.role == "table.row" })

        let models = try registry.models()
        #expect(RegistryRows.matching(models, filter: "CLASSIF").count == 1)
        #expect(RegistryRows.matching(models, filter: "salmon").isEmpty)
        #expect(RegistryRows.models(models).first?.cells == ["fish-classifier", "2", "v2", "production=v1 staging=v2"])
    }

    @Test func goneServerSummaryExplainsItself() throws {
        let servers = try ServingService(context: ConsoleFixture.store()).servers()
        let gone = try #require(servers.first)
        #expect(gone.state == .gone)
        let rows = ServingRows.servers(servers, glyphs: .ascii)
        #expect(rows.first?.cells.prefix(3) == ["fish-a:8080", "gone", "fish-cl~ v1"])
        #expect(rows.first?.role == "ui.muted")
        #expect(ServingRows.title(servers) == "servers (0 of 1 alive)  last minute")
        let summary = ServingRows.summary(gone, loaded: true, error: nil)
        #expect(summary.first?.text.hasPrefix("fish-classifier@production v1  gone  heartbeat") == true)
        #expect(summary.contains { $0.text.contains("x in :serve forgets it") && $0.role == "ui.muted" })
        #expect(
            ServingRows.summary(nil, loaded: true, error: nil) == [
                StyledLine("no such server: it was forgotten", role: "ui.muted")
            ])
        #expect(ServingRows.summary(nil, loaded: false, error: nil) == [StyledLine("loading", role: "ui.muted")])
        #expect(ServingRows.summary(gone, loaded: true, error: ServiceError.failed("store is down")).map(\.role) == ["ui.error"])
    }

    @Test func confidenceHistogramFoldsIntoFifthsWhenShort() {
        let recent = ServerStats.Recent(
            answers: 10, classMix: [], meanConfidence: 0.7, confidenceHistogram: [1, 0, 0, 0, 0, 0, 2, 3, 0, 4],
            lowConfidenceThreshold: 0.5, lowConfidence: [])
        let tall = ServingRows.confidence(recent, width: 20, height: 10, glyphs: .ascii)
        #expect(tall.count == 10)
        #expect(tall.first?.text.hasPrefix("0.9 ") == true && tall.first?.text.hasSuffix(" 4") == true)
        let short = ServingRows.confidence(recent, width: 20, height: 6, glyphs: .ascii)
        #expect(short.map { $0.text.prefix(3) } == ["0.8", "0.6", "0.4", "0.2", "0.0"])
        #expect(short.map { $0.text.split(separator: " ").last } == ["4", "5", "0", "0", "1"])
        // Bins below one half stand out.
        #expect(short.map(\.role) == ["ui.text", "ui.text", "ui.stale", "ui.stale", "ui.stale"])
        #expect(ServingRows.lowConfidence(recent) == [StyledLine("none", role: "ui.muted")])
    }

    @Test func overviewMachineAndModels() throws {
        let context = try ConsoleFixture.store()
        let node = LocalNode(cores: 2, load: 0.5, totalGiB: 24, availableGiB: 12)
        #expect(
            OverviewRows.machine(node, training: nil, servers: []).map(\.text) == [
                "2 cores, load 0.50", "memory 12.0 of 24.0 GiB free", "no training job", "no servers (:serve)",
            ])
        // Before /proc has been read, the machine box starts with the training job.
        #expect(OverviewRows.machine(nil, training: nil, servers: nil).map(\.text) == ["no training job"])
        let servers = try ServingService(context: context).servers()
        #expect(OverviewRows.serving(servers) == ["servers: 1 gone"])
        let models = OverviewRows.models(try RegistryService(context: context).models())
        #expect(models == [StyledLine("fish-classifier  v2 latest  production=v1 staging=v2", role: "ui.text")])
        let runs = OverviewRows.runs(try TrackingService(context: context).runs())
        #expect(runs.map(\.role).sorted() == ["status.failed", "status.finished", "status.finished"])
        #expect(runs.contains { $0.text.hasPrefix("train-b") && $0.text.hasSuffix("test_macro_f1 0.9700") })
    }

    @Test func hookDeliveries() {
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let rows = LogRows.deliveries([
            HookDelivery(hook: "web", event: .aliasMoved, eventId: 7, attempt: 1, at: at, outcome: .failed, detail: "refused"),
            HookDelivery(
                hook: "web", event: .aliasMoved, eventId: 7, attempt: 2, at: at, outcome: .delivered, detail: "HTTP 200"),
        ])
        #expect(rows.map(\.role) == ["ui.error", "ui.text"])
        #expect(rows[1].text.hasSuffix("web alias_moved #7 try 2: delivered  HTTP 200"))
    }

    @Test func overviewMirrorState() {
        var status = MirrorStatus(server: "http://mlflow.lan:5000", pending: 0, rejected: 0)
        #expect(OverviewRows.mirror(status) == [StyledLine("mlflow mlflow.lan:5000: in sync", role: "ui.text")])
        status.pending = 12
        #expect(OverviewRows.mirror(status) == [StyledLine("mlflow mlflow.lan:5000: 12 behind", role: "ui.muted")])
        status.lastError = "MLflow at http://mlflow.lan:5000: timed out"
        #expect(OverviewRows.mirror(status).map(\.role) == ["ui.error"])
        #expect(
            OverviewRows.mirror(status).first?.text.hasSuffix("12 behind: MLflow at http://mlflow.lan:5000: timed out") == true)
        #expect(OverviewRows.mirror(nil).isEmpty)
        #expect(OverviewRows.mirror(MirrorStatus(server: nil, pending: 3, rejected: 0)).isEmpty)  // no mirror configured
    }

    @Test func runDetailFactsAndComparison() throws {
        let context = try ConsoleFixture.store()
        let tracking = TrackingService(context: context)
        let runs = try tracking.runs().filter { $0.run.parentRunId == nil && $0.run.status == .finished }
        let detail = try tracking.run(try #require(runs.first).run.id)
        let facts = TrackingRows.facts(detail)
        #expect(facts.prefix(1).map(\.label) == ["experiment"])
        #expect(facts.contains { $0.label == "learning_rate" })
        #expect(facts.contains { $0.label == "val_loss" && $0.value.contains(" / ") })
        #expect(!facts.contains { $0.label == "mlflow run" })
        let mirrored = TrackingRows.facts(detail, mlflowRunID: "2efc5d6f55f2451fa693c3715f999deb")
        #expect(mirrored.contains { $0 == ("mlflow run", "2efc5d6f55f2451fa693c3715f999deb") })
        // Only metrics with a history are charted; the index goes round them.
        let charted = (0..<4).compactMap { TrackingRows.chartedMetric(detail.metrics, index: $0) }
        #expect(Set(charted) == ["val_accuracy", "val_loss"])
        #expect(TrackingRows.chartedMetric([], index: 0) == nil)

        let comparison = try tracking.compare(runs.map(\.run.id))
        let rows = TrackingRows.comparison(comparison)
        #expect(rows.first?.cells.first == "learning_rate")
        #expect(rows.first?.role == "table.row")
        #expect(rows.dropFirst().allSatisfy { $0.role == "ui.muted" })
        #expect(!rows.contains { $0.cells.first == "seed" })  // equal in both runs
    }

    @Test func classifiedFilesAndEvents() {
        let rows = JobRows.classified([
            ("a.jpg", [Prediction(label: "trout", index: 3, probability: 0.9125)], nil), ("b.png", nil, "not an image"),
        ])
        #expect(
            rows == [Table.Row(["a.jpg", "trout", "0.912"]), Table.Row(["b.png", "not an image", ""], role: "status.failed")])
        let log = EventLog()
        log.add("started")
        log.add("failed", isError: true)
        #expect(LogRows.events(log.all, timed: false) == [StyledLine("started"), StyledLine("failed", role: "ui.error")])
    }
}
