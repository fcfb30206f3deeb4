import FishServices
import Foundation
import Synchronization

/// `:classify`: type or complete a path (Tab), Enter classifies it: one image shows a preview
/// drawn with half-block cells and its top classes with probability bars; a folder shows a
/// progress bar and a results table.
final class ClassifyView: ConsoleView {
    let name = "classify", title = "classify"
    let actions = [Action("edit", .enter, "edit the path / classify"), Action("model", .character("m"), "edit the model")]

    /// What a classification produced.
    struct Outcome: Sendable {
        let model: String
        let results: [(file: String, predictions: [Prediction]?, error: String?)]
        /// Half-block preview of a single image: rows of (top, bottom) pixel colours.
        let preview: [[(TerminalColor, TerminalColor)]]
    }

    private var path = TextField("", completesPaths: true)
    /// The model field while it is being edited, and the model chosen (nil: the configured default).
    private var model: TextField?
    private var modelName: String?
    private var editingPath = true
    private var loader: Loader<Outcome>?
    private let progress = ClassifyProgress()
    private var table = Table(columns: [.init("file"), .init("class", width: 22), .init("p", width: 6)])
    static let previewSize = (width: 32, height: 16)

    var isEditing: Bool { editingPath || model != nil }

    func handle(_ key: Key, action: Action?, app: ConsoleApp) -> Bool {
        if var field = model {
            switch key {
            case .enter, .escape:
                model = nil
                modelName = field.text
                app.say("model: \(field.text)")
            default:
                _ = field.handle(key)
                model = field
            }
            return true
        }
        if editingPath {
            switch key {
            case .escape: editingPath = false
            case .enter:
                editingPath = false
                classify(app)
            default: _ = path.handle(key)
            }
            return true
        }
        switch action?.id {
        case "edit"?: editingPath = true
        case "model"?: model = TextField(modelName ?? app.context.config.defaultModel)
        default: return table.move(key)
        }
        return true
    }

    private func classify(_ app: ConsoleApp) {
        let context = app.context
        let target = (path.text as NSString).expandingTildeInPath
        let progress = self.progress
        let modelName = self.modelName
        guard !target.isEmpty else { return app.say("type a file or folder path first", isError: true) }
        loader = app.loader(interval: .infinity)
        progress.set(done: 0, total: 0)
        let wake = app.wake
        loader?.load {
            let service = ClassificationService(context: context)
            let model = try service.loadModel(name: modelName)
            let (files, unusable) = service.collectFiles([target])
            if let problem = unusable.first { throw ServiceError.invalidArgument(problem.message) }
            progress.set(done: 0, total: files.count)
            var results: [(file: String, predictions: [Prediction]?, error: String?)] = []
            var preview: [[(TerminalColor, TerminalColor)]] = []
            // One image gets a preview, shrunk from the decode that classified it.
            let thumbnails = files.count == 1 ? (maxWidth: Self.previewSize.width, maxHeight: Self.previewSize.height * 2) : nil
            service.classify(files: files, model: model, top: 5, thumbnails: thumbnails) { result in
                switch result.outcome {
                case let .success(predictions): results.append((result.file, predictions, nil))
                case let .failure(error): results.append((result.file, nil, error.message))
                }
                if let thumbnail = result.thumbnail { preview = Self.halfBlocks(thumbnail) }
                progress.advance()
                wake()
            }
            return Outcome(model: "\(model.name) v\(model.version)", results: results, preview: preview)
        }
    }

    /// A thumbnail as pairs of vertically adjacent pixels (its height is even).
    static func halfBlocks(_ thumbnail: Thumbnail) -> [[(TerminalColor, TerminalColor)]] {
        stride(from: 0, to: thumbnail.height, by: 2).map { y in
            (0..<thumbnail.width).map { x in
                let top = thumbnail.pixel(x: x, y: y)
                let bottom = thumbnail.pixel(x: x, y: y + 1)
                return (.rgb(top.red, top.green, top.blue), .rgb(bottom.red, bottom.green, bottom.blue))
            }
        }
    }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        let glyphs = app.settings.glyphs
        let (input, rest) = area.split(top: 3)
        let hint = editingPath ? "path (tab completes, enter classifies)" : "path (enter to edit, m model)"
        canvas.panel(input, title: hint, focused: editingPath, app: app)
        path.draw(
            &canvas, x: input.x + 2, y: input.y + 1, width: input.width - 4, style: app.style("dialog.input"),
            focused: editingPath)
        if let model {
            canvas.write("model: ", x: input.x + 2, y: input.y + 2, style: app.style("ui.title"))
            model.draw(&canvas, x: input.x + 9, y: input.y + 2, width: 30, style: app.style("dialog.input"), focused: true)
        }
        canvas.panel(rest, title: "results", app: app)
        let inner = rest.inset(1)
        guard let loader else {
            canvas.write(
                "type the path of an image, or of a folder of images (tab completes)", x: inner.x + 1, y: inner.y,
                style: app.style("ui.muted"))
            return
        }
        if let error = loader.error {
            canvas.write(glyphs.fit("\(error)", inner.width - 2), x: inner.x + 1, y: inner.y, style: app.style("ui.error"))
            return
        }
        guard let outcome = loader.value else {
            let (done, total) = progress.value
            let fraction = total > 0 ? Double(done) / Double(total) : 0
            canvas.write(
                "classifying [\(glyphs.bar(fraction, width: 30))] \(done)/\(total)", x: inner.x + 1, y: inner.y,
                style: app.style("status.running"))
            return
        }
        if outcome.results.count == 1, let single = outcome.results.first {
            renderSingle(single, outcome: outcome, &canvas, in: inner, app: app)
        } else {
            table.update(JobRows.classified(outcome.results))
            table.render(&canvas, in: inner, app: app)
        }
    }

    private func renderSingle(
        _ result: (file: String, predictions: [Prediction]?, error: String?), outcome: Outcome,
        _ canvas: inout Canvas, in area: Rect, app: ConsoleApp
    ) {
        let glyphs = app.settings.glyphs
        var x = area.x + 1
        if glyphs.braille && app.settings.depth != .mono && !outcome.preview.isEmpty {
            for (row, pairs) in outcome.preview.prefix(area.height).enumerated() {
                for (column, pair) in pairs.enumerated() {
                    let style = Style(
                        foreground: pair.0.reduced(to: app.settings.depth), background: pair.1.reduced(to: app.settings.depth))
                    canvas[area.x + 1 + column, area.y + row] = Cell(character: "▀", style: style)
                }
            }
            x += (outcome.preview.first?.count ?? 0) + 2
        }
        canvas.write(
            glyphs.fit("\(URL(fileURLWithPath: result.file).lastPathComponent)  (\(outcome.model))", area.x + area.width - x),
            x: x, y: area.y, style: app.style("ui.title"))
        guard let predictions = result.predictions else {
            canvas.write(
                glyphs.fit(result.error ?? "failed", area.x + area.width - x), x: x, y: area.y + 2, style: app.style("ui.error"))
            return
        }
        for (index, prediction) in predictions.enumerated() {
            let y = area.y + 2 + index
            let barWidth = 16
            canvas.write(glyphs.bar(prediction.probability, width: barWidth), x: x, y: y, style: app.style("bar.fill"))
            canvas.write(
                String(format: " %5.1f%%  ", prediction.probability * 100) + prediction.label, x: x + barWidth, y: y,
                style: app.style(index == 0 ? "metric.best" : "ui.text"), clip: area)
        }
    }
}

/// Files classified so far, shared with the background job.
final class ClassifyProgress: Sendable {
    private let state = Mutex((done: 0, total: 0))

    var value: (done: Int, total: Int) { state.withLock { $0 } }

    func set(done: Int, total: Int) { state.withLock { $0 = (done, total) } }

    func advance() { state.withLock { $0.done += 1 } }
}
