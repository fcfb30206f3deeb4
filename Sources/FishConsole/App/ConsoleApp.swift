public import FishServices
public import Foundation
import Synchronization

/// The console's state machine: the view stack, command and filter modes, dialogs, and drawing
/// of the header and footer. It runs on the UI thread; it never waits for I/O or compute.
public final class ConsoleApp {
    /// How the console is drawn and what it may do.
    public struct Settings: Sendable {
        public var depth: ColorDepth
        public var glyphs: Glyphs
        public var theme: Theme
        public var actions: ActionRegistry

        public init(depth: ColorDepth, glyphs: Glyphs, theme: Theme, actions: ActionRegistry) {
            (self.depth, self.glyphs, self.theme, self.actions) = (depth, glyphs, theme, actions)
        }
    }

    enum Mode {
        case normal
        case command(TextField)
        case filter(TextField)
    }

    public let context: ServiceContext
    public let settings: Settings
    public let log: EventLog
    public private(set) var stack: [any ConsoleView] = []
    public private(set) var wantsQuit = false
    /// The training job started from this console, if any.
    public var training: TrainingMonitor?
    var mode = Mode.normal
    var dialog: Dialog?
    /// A one-line notice in the footer until the next key.
    var notice: (text: String, isError: Bool)?
    private let views: [String: () -> any ConsoleView]
    private var pending: [() -> Bool] = []
    private let woken = WakeFlag()

    public static let minimumWidth = 80, minimumHeight = 24

    /// The global actions, before remapping.
    public static let globalActions: [Action] = [
        Action("command", .character(":"), "views (:runs, :models, :train, :classify, :serve, :logs, ...)"),
        Action("filter", .character("/"), "filter the rows"),
        Action("help", .character("?"), "help: every key"),
        Action("back", .escape, "back", visible: false),
        Action("refresh", .control("r"), "refresh now", visible: false),
        Action("quit", .character("q"), "quit"),
    ]

    public init(context: ServiceContext, settings: Settings, log: EventLog = EventLog()) {
        self.context = context
        self.settings = settings
        self.log = log
        var views: [String: () -> any ConsoleView] = [:]
        views["overview"] = { OverviewView() }
        views["runs"] = { RunsView() }
        views["models"] = { ModelsView() }
        views["train"] = { TrainView(dataFolder: context.config.imageFolder(nil)) }
        views["classify"] = { ClassifyView() }
        views["cluster"] = { ClusterView() }
        views["serve"] = { ServeView() }
        views["logs"] = { LogsView() }
        views["help"] = { HelpView() }
        self.views = views
        for warning in settings.theme.warnings { log.add("theme \(settings.theme.name): \(warning)", isError: true) }
        stack = [OverviewView()]
    }

    /// The names `:` accepts.
    public var viewNames: [String] { views.keys.sorted() }

    /// Loads in flight in this console.
    public let activity = Activity()

    /// A loader wired to this console: it wakes the UI and counts as activity while loading.
    public func loader<Value: Sendable>(interval: TimeInterval, of type: Value.Type = Value.self) -> Loader<Value> {
        Loader(interval: interval, activity: activity, wake: wake)
    }

    /// Whether no load is in flight and no background action waits for its result.
    public var isIdle: Bool { activity.isIdle && pending.isEmpty }

    /// Called from background threads when data arrives.
    public var wake: @Sendable () -> Void { { [woken] in woken.set() } }

    /// True once after new data arrived.
    public func takeWake() -> Bool { woken.take() }

    public var top: any ConsoleView { stack[stack.count - 1] }

    public func style(_ role: String) -> Style { settings.theme.style(role, depth: settings.depth) }

    /// Switches to `:name` (help opens on top of the current view; the overview is the root Esc
    /// returns to; a view already open is brought back with its state).
    @discardableResult
    public func open(_ name: String) -> Bool {
        if let index = stack.firstIndex(where: { $0.name == name }) {
            stack.removeSubrange((index + 1)...)
        } else if let make = views[name] {
            if name != "help" { stack.removeSubrange(1...) }
            push(make())
        } else {
            notice = ("no view \(name); views: \(viewNames.joined(separator: " "))", true)
            return false
        }
        top.refresh(self, force: true)
        return true
    }

    /// Shows `view` on top (drill-down).
    public func push(_ view: any ConsoleView) {
        stack.append(view)
        view.refresh(self, force: true)
    }

    public func pop() {
        if stack.count > 1 { stack.removeLast() }
        top.refresh(self, force: true)
    }

    /// Asks before doing something (a reason is typed when `askReason`).
    public func confirm(_ dialog: Dialog) {
        self.dialog = dialog
    }

    public func say(_ text: String, isError: Bool = false) {
        notice = (text, isError)
        log.add(text, isError: isError)
    }

    /// Runs `then` on the UI thread once `loader` has finished its load.
    public func whenLoaded<Value>(_ loader: Loader<Value>, _ then: @escaping (Result<Value, any Error>, ConsoleApp) -> Void) {
        pending.append { [unowned self] in
            guard !loader.isLoading, let snapshot = loader.snapshot else { return false }
            then(snapshot.result, self)
            return true
        }
    }

    /// True while background work started by an action has not been taken up yet.
    public var hasPendingWork: Bool { !pending.isEmpty }

    /// The refresh tick: finishes background actions and loads what the visible view needs.
    public func tick() {
        let waiting = pending
        pending = []
        pending = waiting.filter { !$0() } + pending
        top.refresh(self, force: false)
    }

    // MARK: Keys

    public func handle(_ key: Key) {
        notice = nil
        if key == .resize { return }
        if dialog != nil { return handleDialog(key) }
        switch mode {
        case var .command(field):
            switch key {
            case .escape: mode = .normal
            case .enter:
                mode = .normal
                let name = field.text.trimmingCharacters(in: .whitespaces)
                if name == "q" || name == "quit" { wantsQuit = true } else if !name.isEmpty { open(name) }
            case .tab:
                if let match = viewNames.first(where: { $0.hasPrefix(field.text) }) { field = TextField(match) }
                mode = .command(field)
            default:
                _ = field.handle(key)
                mode = .command(field)
            }
            return
        case var .filter(field):
            switch key {
            case .escape:
                mode = .normal
                (top as? Filterable)?.filter = ""
            case .enter: mode = .normal
            default:
                _ = field.handle(key)
                mode = .filter(field)
                (top as? Filterable)?.filter = field.text
            }
            return
        case .normal: break
        }
        let registry = settings.actions
        let viewAction = registry.action(for: key, in: top.actions)
        if top.isEditing || viewAction != nil {
            if top.handle(key, action: viewAction, app: self) { return }
        }
        switch registry.action(for: key, in: Self.globalActions)?.id {
        case "command"?: mode = .command(TextField())
        case "filter"?:
            if let filterable = top as? Filterable {
                mode = .filter(TextField(filterable.filter))
            } else {
                notice = ("this view has no filter", true)
            }
        case "help"?: open("help")
        case "back"?: pop()
        case "refresh"?: top.refresh(self, force: true)
        case "quit"?: wantsQuit = true
        default: _ = top.handle(key, action: nil, app: self)
        }
    }

    private func handleDialog(_ key: Key) {
        guard var current = dialog else { return }
        switch key {
        case .escape:
            dialog = nil
            say("cancelled")
        case .enter:
            let reason = current.reason?.text.trimmingCharacters(in: .whitespaces) ?? ""
            if current.reason != nil && reason.isEmpty {
                notice = ("type a reason first", true)
                return
            }
            dialog = nil
            current.onConfirm(reason)
        default:
            if var field = current.reason {
                _ = field.handle(key)
                current.reason = field
                dialog = current
            }
        }
    }

    // MARK: Drawing

    /// Draws the whole screen.
    public func render(into canvas: inout Canvas) {
        canvas.fill(canvas.bounds)
        guard canvas.width >= Self.minimumWidth, canvas.height >= Self.minimumHeight else {
            return renderTooSmall(&canvas)
        }
        let (header, rest) = canvas.bounds.split(top: 1)
        let body = Rect(x: rest.x, y: rest.y, width: rest.width, height: rest.height - 1)
        let footer = Rect(x: 0, y: canvas.height - 1, width: canvas.width, height: 1)
        renderHeader(&canvas, header)
        top.render(&canvas, in: body, app: self)
        renderFooter(&canvas, footer)
        if let dialog { renderDialog(dialog, &canvas) }
    }

    private func renderTooSmall(_ canvas: inout Canvas) {
        let lines = [
            "terminal too small", "\(canvas.width)x\(canvas.height); FishOps needs \(Self.minimumWidth)x\(Self.minimumHeight)",
        ]
        for (index, line) in lines.enumerated() {
            canvas.write(
                line, x: max((canvas.width - line.count) / 2, 0), y: canvas.height / 2 - 1 + index,
                style: style(index == 0 ? "ui.error" : "ui.text"))
        }
    }

    private func renderHeader(_ canvas: inout Canvas, _ area: Rect) {
        canvas.fill(area, style: style("ui.header"))
        var x = canvas.write(" FishOps ", x: 0, y: area.y, style: style("ui.header.title"))
        let crumbs = stack.map(\.title).joined(separator: " > ")
        x = canvas.write(" " + settings.glyphs.fit(crumbs, area.width - 30), x: x, y: area.y, style: style("ui.header"))
        var status: [String] = []
        if top.isStale { status.append("stale") }
        if settings.actions.readOnly { status.append("read-only") }
        status.append(context.actor.user)
        let right = status.joined(separator: "  ") + " "
        canvas.write(right, x: area.width - right.count, y: area.y, style: top.isStale ? style("ui.stale") : style("ui.header"))
    }

    private func renderFooter(_ canvas: inout Canvas, _ area: Rect) {
        switch mode {
        case let .command(field):
            canvas.write(":", x: 0, y: area.y, style: style("ui.command"))
            field.draw(&canvas, x: 1, y: area.y, width: area.width - 1, style: style("ui.command"), focused: true)
            return
        case let .filter(field):
            canvas.write("/", x: 0, y: area.y, style: style("ui.command"))
            field.draw(&canvas, x: 1, y: area.y, width: area.width - 1, style: style("ui.command"), focused: true)
            return
        case .normal: break
        }
        if let notice {
            canvas.write(
                settings.glyphs.fit(notice.text, area.width), x: 0, y: area.y,
                style: style(notice.isError ? "ui.error" : "ui.good"))
            return
        }
        let actions = settings.actions.resolve(top.actions + Self.globalActions).filter(\.visible)
        var x = 0
        for action in actions {
            let hint = "\(action.key.name) \(action.hint)"
            guard x + hint.count + 2 <= area.width else { break }
            canvas.write(action.key.name, x: x, y: area.y, style: style("ui.footer.key"))
            x = canvas.write(
                String(hint.dropFirst(action.key.name.count)) + "  ", x: x + action.key.name.count, y: area.y,
                style: style("ui.footer"))
        }
    }

    private func renderDialog(_ dialog: Dialog, _ canvas: inout Canvas) {
        let width = min(max((dialog.lines.map(\.count).max() ?? 0) + 6, 50), canvas.width - 4)
        let height = dialog.lines.count + (dialog.reason == nil ? 4 : 6)
        let area = Rect(x: (canvas.width - width) / 2, y: max((canvas.height - height) / 2, 1), width: width, height: height)
        canvas.fill(area)
        let border = style(dialog.dangerous ? "dialog.danger" : "dialog.border")
        canvas.box(area, title: dialog.title, glyphs: settings.glyphs, style: border)
        let inner = area.inset(2)
        let text = Rect(x: inner.x, y: area.y + 1, width: inner.width, height: area.height - 2)
        for (index, line) in dialog.lines.enumerated() {
            canvas.write(line, x: inner.x, y: area.y + 1 + index, style: style("ui.text"), clip: text)
        }
        var y = area.y + 1 + dialog.lines.count + 1
        if let reason = dialog.reason {
            canvas.write("reason:", x: inner.x, y: y, style: style("ui.title"))
            reason.draw(&canvas, x: inner.x + 8, y: y, width: inner.width - 8, style: style("dialog.input"), focused: true)
            y += 2
        }
        canvas.write("enter confirm   esc cancel", x: inner.x, y: y, style: style("ui.footer"))
    }
}

/// A view whose rows `/` filters.
public protocol Filterable: AnyObject {
    var filter: String { get set }
}

/// Set by background threads when new data arrives; the UI loop takes it to know it must redraw.
final class WakeFlag: Sendable {
    private let flag = Atomic<Bool>(true)

    func set() { flag.store(true, ordering: .relaxed) }

    func take() -> Bool { flag.exchange(false, ordering: .relaxed) }
}
