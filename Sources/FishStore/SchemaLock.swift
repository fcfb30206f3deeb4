import Foundation

/// An exclusive advisory lock (`flock`) on `store.lock`, held while a store is created and
/// migrated. GRDB reads which migrations are applied outside the migration's transaction, so
/// two processes opening a new store at the same moment would otherwise both create the tables.
enum SchemaLock {
    /// Runs `body` holding the lock next to the database. When the lock file cannot be created
    /// (a read-only folder), `body` runs unlocked: nothing can be migrated there anyway.
    static func holding<T>(in directory: URL, _ body: () throws -> T) rethrows -> T {
        let descriptor = open(directory.appendingPathComponent("store.lock").path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return try body() }
        defer { close(descriptor) }  // closing releases the lock
        while flock(descriptor, LOCK_EX) != 0 && errno == EINTR {}
        return try body()
    }
}
