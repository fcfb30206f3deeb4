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

    private var visible: [ModelOverview] {
        (loader?.value ?? []).filter { filter.isEmpty || $0.name.localizedCaseInsensitiveContains(filter) }
    }

    private func syncTable() {
        table.update(
            visible.map { model in
                Table.Row([
                    model.name, "\(model.versionCount)", model.latestVersion.map { "v\($0)" } ?? "-",
                    model.aliases.sorted { $0.key < $1.key }.map { "\($0.key)=v\($0.value)" }.joined(separator: " "),
                ])
            })
    }

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
        canvas.box(
            area, title: "models" + (filter.isEmpty ? "" : "  filter: \(filter)"), glyphs: app.settings.glyphs,
            style: app.style("ui.border.focus"), titleStyle: app.style("ui.title"))
        if let error = loader?.error {
            canvas.write(
                app.settings.glyphs.fit("\(error)", area.width - 4), x: area.x + 2, y: area.y + 1, style: app.style("ui.error"))
            return
        }
        table.render(&canvas, in: area.inset(1), app: app)
    }
}
