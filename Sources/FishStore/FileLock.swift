import FishRecords
public import Foundation

/// An exclusive advisory lock (`flock`) on a lock file, held while `body` runs; other processes
/// taking the same lock wait. The store holds `store.lock` while it is created and migrated (GRDB
/// reads which migrations are applied outside the migration's transaction, so two processes
/// opening a new store at the same moment would otherwise both create the tables).
public enum FileLock {
    /// Runs `body` holding the lock on `file` (created if needed). When the lock file cannot be
    /// created (a read-only folder), `body` runs unlocked: nothing can be written there anyway.
    public static func holding<T>(_ file: URL, _ body: () throws -> T) rethrows -> T {
        let descriptor = open(file.path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return try body() }
        defer { close(descriptor) }  // closing releases the lock
        while flock(descriptor, LOCK_EX) != 0 && errno == EINTR {}
        return try body()
    }

    /// Runs `body` holding the lock on `file` if no other process holds it; returns nil at once,
    /// without running `body`, if one does. The lock ends with the process, however it ends.
    public static func ifFree<T>(_ file: URL, _ body: () throws -> T) throws -> T? {
        let descriptor = open(file.path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StoreError.cannotOpen(path: file.path, detail: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var status: Int32
        repeat { status = flock(descriptor, LOCK_EX | LOCK_NB) } while status != 0 && errno == EINTR
        guard status == 0 else { return nil }
        return try body()
    }
}
