/// One screen of the console. Views keep their own state, fetch data through `Loader`s (never on
/// the UI thread) and draw into the canvas.
public protocol ConsoleView: AnyObject {
    /// The `:name` that opens the view.
    var name: String { get }
    /// The breadcrumb shown in the header.
    var title: String { get }
    /// The view's own actions (the global ones are added by the app).
    var actions: [Action] { get }
    /// Starts loads that are due (or all of them when `force`); called while the view is on top.
    func refresh(_ app: ConsoleApp, force: Bool)
    /// Handles a key (and the action it triggers, if any); returns false to let the app handle it.
    func handle(_ key: Key, action: Action?, app: ConsoleApp) -> Bool
    /// Draws the view into `area`.
    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp)
    /// True while a text field of the view takes the keys (global shortcuts are then off).
    var isEditing: Bool { get }
    /// Whether the data shown is older than twice its refresh interval.
    var isStale: Bool { get }
}

extension ConsoleView {
    // What a view without actions, loads or keys of its own does.
    public var actions: [Action] { [] }
    public func refresh(_ app: ConsoleApp, force: Bool) {}
    public func handle(_ key: Key, action: Action?, app: ConsoleApp) -> Bool { false }
    public var isEditing: Bool { false }
    public var isStale: Bool { false }
}

/// A modal question: what will happen, an optional reason to type, and the confirmation key.
public struct Dialog {
    public let title: String
    public let lines: [String]
    /// A text field for a reason; confirming needs it non-empty.
    public var reason: TextField?
    public let dangerous: Bool
    public let onConfirm: (String) -> Void

    public init(title: String, lines: [String], askReason: Bool, dangerous: Bool, onConfirm: @escaping (String) -> Void) {
        self.title = title
        self.lines = lines
        reason = askReason ? TextField() : nil
        self.dangerous = dangerous
        self.onConfirm = onConfirm
    }
}
