import FishServices
import Foundation

/// `:train`: a form that starts a training job, then the job's stage, progress and a live chart
/// of validation loss and accuracy; `x` cancels it.
final class TrainView: ConsoleView {
    let name = "train", title = "train"
    let actions = [
        Action("edit", .enter, "edit the field"),
        Action("start", .character("s"), "start training"),
        Action("cancel-job", .character("x"), "cancel the job", dangerous: true),
    ]

    private struct Field {
        let label: String
        var input: TextField
    }

    private var fields: [Field]
    private var focus = 0
    private var editing = false

    /// A form whose data folder starts at `dataFolder` (the configured one).
    init(dataFolder: String) {
        fields = Self.fields(dataFolder: dataFolder)
    }

    private static func fields(dataFolder: String) -> [Field] {
        [
            Field(label: "data folder", input: TextField(dataFolder, completesPaths: true)),
            Field(label: "experiment", input: TextField("fish-training")),
            Field(label: "model", input: TextField("fish-classifier")),
            Field(label: "backbone", input: TextField(FishConfig.baseModelName)),
            Field(label: "fit", input: TextField(ImageFit.centerCrop.rawValue)),
            Field(label: "augment views", input: TextField("0")),
            Field(label: "group by", input: TextField("")),
            Field(label: "learning rate", input: TextField("0.001")),
            Field(label: "hidden units", input: TextField("0")),
            Field(label: "trials", input: TextField("1")),
            Field(label: "seed", input: TextField("0")),
            Field(label: "fine-tune from", input: TextField("off")),
            Field(label: "backend", input: TextField("local")),
            Field(label: "promote if better", input: TextField("no")),
        ]
    }

    var isEditing: Bool { editing }

    func handle(_ key: Key, action: Action?, app: ConsoleApp) -> Bool {
        if editing {
            switch key {
            case .enter, .escape: editing = false
            case .up, .down:
                editing = false
                return handle(key, action: nil, app: app)
            default: _ = fields[focus].input.handle(key)
            }
            return true
        }
        switch action?.id {
        case "edit"?: editing = true
        case "start"?: start(app)
        case "cancel-job"?: askToCancel(app)
        default:
            switch key {
            case .down, .character("j"): focus = (focus + 1) % fields.count
            case .up, .character("k"): focus = (focus + fields.count - 1) % fields.count
            default: return false
            }
        }
        return true
    }

    /// The trimmed text of the field labelled `label`.
    private func text(_ label: String) -> String {
        (fields.first { $0.label == label }?.input.text ?? "").trimmingCharacters(in: .whitespaces)
    }

    private func number<T: LosslessStringConvertible>(_ label: String) throws -> T {
        guard let value = T(text(label)) else {
            throw ServiceError.invalidArgument("\(label): \"\(text(label))\" is not a number")
        }
        return value
    }

    private func spec() throws -> TrainingSpec {
        var spec = TrainingSpec(data: (text("data folder") as NSString).expandingTildeInPath)
        spec.experiment = text("experiment")
        spec.model = text("model")
        spec.backbone = text("backbone")
        guard let fit = ImageFit(rawValue: text("fit")) else {
            throw ServiceError.invalidArgument("fit: center-crop, squash or letterbox")
        }
        spec.fit = fit
        spec.augmentedViews = try number("augment views")
        spec.groupBy = text("group by").isEmpty ? nil : text("group by")
        spec.hyperparameters.learningRate = try number("learning rate")
        spec.hyperparameters.hidden = try number("hidden units")
        spec.trials = try number("trials")
        spec.seed = try number("seed")
        if text("fine-tune from") != "off" {
            var settings = FineTuneSettings()
            settings.unfreezeFrom = try number("fine-tune from")
            spec.finetune = settings
        }
        guard let backend = ClusterOptions.Backend(rawValue: text("backend")) else {
            throw ServiceError.invalidArgument("backend: local or slurm")
        }
        spec.cluster.backend = backend
        switch text("promote if better") {
        case "yes": spec.promoteIfBetter = true
        case "no": spec.promoteIfBetter = false
        default: throw ServiceError.invalidArgument("promote if better: yes or no")
        }
        if let problem = spec.problem { throw ServiceError.invalidArgument(problem) }
        return spec
    }

    private func start(_ app: ConsoleApp) {
        if let job = app.training, !job.snapshot.finished {
            return app.say("a training job is already running; x cancels it", isError: true)
        }
        do {
            app.training = TrainingMonitor(spec: try spec(), context: app.context, log: app.log, wake: app.wake)
            app.say("training started")
        } catch {
            app.say("\(error)", isError: true)
        }
    }

    private func askToCancel(_ app: ConsoleApp) {
        guard let job = app.training, !job.snapshot.finished else { return app.say("no training job is running", isError: true) }
        app.confirm(
            Dialog(
                title: "cancel training", lines: ["Stop the training job? Cached features are kept."], askReason: false,
                dangerous: true
            ) { _ in job.cancel() })
    }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        let glyphs = app.settings.glyphs
        let (form, job) = area.split(top: fields.count + 3)
        canvas.panel(
            form,
            title: editing
                ? "editing: enter or esc when done, tab completes folders" : "new training run: enter edits a field, s starts",
            focused: true, app: app)
        for (index, field) in fields.enumerated() {
            let y = form.y + 1 + index
            canvas.write(
                (index == focus ? String(glyphs.selected) + " " : "  ") + field.label, x: form.x + 1, y: y,
                style: app.style(index == focus ? "ui.title" : "ui.muted"))
            field.input.draw(
                &canvas, x: form.x + 21, y: y, width: form.width - 23, style: app.style("dialog.input"),
                focused: index == focus && editing)
        }
        canvas.panel(job, title: "job", app: app)
        let inner = job.inset(1)
        guard let state = app.training?.snapshot else {
            canvas.write("no training job in this console yet", x: inner.x + 1, y: inner.y, style: app.style("ui.muted"))
            return
        }
        canvas.lines([JobRows.training(state, glyphs: glyphs)], in: inner, margin: 0, app: app)
        let chartArea = Rect(x: inner.x, y: inner.y + 1, width: inner.width, height: inner.height - 1)
        Chart([.init("val loss", state.validationLoss), .init("val accuracy", state.validationAccuracy)])
            .render(&canvas, in: chartArea, app: app)
    }
}
