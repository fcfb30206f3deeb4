/// Errors of the tracking store and model registry; each says what happened and what to do.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    case locked(path: String)
    case readOnly(path: String)
    case corrupt(path: String, detail: String)
    case cannotOpen(path: String, detail: String)
    case notFound(String)
    case invalid(String)
    /// Another writer changed the alias first (compare-and-swap failed).
    case conflict(String)
    /// The promotion gate refused the move.
    case gateRefused(String)
    case database(path: String, detail: String)
    /// The database belongs to another program, or to a newer FishOps.
    case foreign(path: String, detail: String)
    /// The database is empty or missing while the folder holds a store's packages or artifacts.
    case emptied(path: String, leftovers: String, missing: Bool)

    public var description: String {
        switch self {
        case let .locked(path):
            return "\(path): the store is locked by another process; wait for it to finish or stop it, then retry"
        case let .readOnly(path):
            return
                "\(path): the store is read-only; fix the permissions of the file and its folder (or set FISHOPS_HOME to a writable folder)"
        case let .corrupt(path, detail):
            return
                "\(path): not a FishOps store or corrupt (\(detail)); move the file aside and restore a backup, or start a new FISHOPS_HOME"
        case let .cannotOpen(path, detail):
            return "\(path): cannot open the store (\(detail)); check that the folder exists and is writable"
        case let .notFound(what):
            return what
        case let .invalid(reason):
            return reason
        case let .conflict(reason):
            return "conflict: \(reason)"
        case let .gateRefused(reason):
            return "promotion refused: \(reason)"
        case let .database(path, detail):
            return "\(path): database error (\(detail))"
        case let .foreign(path, detail):
            return "\(path): not a FishOps store (\(detail)); point FISHOPS_HOME at a FishOps folder, or move the file aside"
        case let .emptied(path, leftovers, missing):
            return "\(path): the store is \(missing ? "missing" : "empty (0 bytes)") but \(leftovers) exist beside it; "
                + "restore store.sqlite from a backup, or move the folder's models/ and artifacts/ away to start a new store"
        }
    }
}
