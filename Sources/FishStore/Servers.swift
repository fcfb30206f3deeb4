public import FishRecords
public import Foundation
public import GRDB

extension ServerRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "servers"
}

extension Store {
    /// Records a server (replacing an earlier record of the same URL, left by a server that died).
    public func announceServer(_ server: ServerRecord) throws(StoreError) {
        try write { db in try server.save(db) }
    }

    /// Updates a server's heartbeat and served version; false when its record is gone (forgotten).
    public func beatServer(url: String, version: Int?, at time: Date) throws(StoreError) -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE servers SET heartbeatAt = ?, version = ? WHERE url = ?", arguments: [time, version, url])
            return db.changesCount == 1
        }
    }

    /// Removes a server's record; false when there was none.
    @discardableResult
    public func removeServer(url: String) throws(StoreError) -> Bool {
        try write { db in try ServerRecord.deleteOne(db, key: url) }
    }

    /// Every recorded server, by URL.
    public func servers() throws(StoreError) -> [ServerRecord] {
        try read { db in try ServerRecord.order(Column("url")).fetchAll(db) }
    }
}
