import FishServices
import Foundation

/// `:models`: registered models with their aliases; Enter lists a model's versions.
final class ModelsView: ConsoleView, Filterable {
    let name = "models", title = "models"
    let actions = [Action("open", .enter, "versions of the model"), Action("history", .character("h"), "audit history")]
    var filter = ""
    private var loader: Loader<[ModelOverview]>?
    private var table = Table(columns: [
        .init("model", width: 24), .init("versions", width: 8), .init("latest", width: 7),
        .init("aliases"),
    ])

    var isStale: Bool { loader?.isStale() ?? false }

    func refresh(_ app: ConsoleApp, force: Bool) {
        let context = app.context
        if loader == nil { loader = app.loader(interval: 3) }
        let work: @Sendable () throws -> [ModelOverview] = { try RegistryService(context: context).models() }
        loader?.refresh(force: force, work)
    }

    private var visible: [ModelOverview] { RegistryRows.matching(loader?.value ?? [], filter: filter) }

    private func syncTable() { table.update(RegistryRows.models(visible)) }

    func handle(_ key: Key, action: Action?, app: ConsoleApp) -> Bool {
        syncTable()
        let models = visible
        guard models.indices.contains(table.selected) else { return table.move(key) }
        switch action?.id {
        case "open"?: app.push(VersionsView(model: models[table.selected].name))
        case "history"?: app.push(HistoryView(model: models[table.selected].name))
        default: return table.move(key)
        }
        return true
    }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        syncTable()
        let title = "models" + (filter.isEmpty ? "" : "  filter: \(filter)")
        canvas.tableBox(&table, title: title, error: loader?.error, in: area, app: app)
    }
}
