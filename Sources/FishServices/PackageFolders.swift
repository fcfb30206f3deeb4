import Foundation

/// Where model packages live under `FISHOPS_HOME`: `models/<name>/<version>`.
enum PackageFolders {
    /// Staging folders (`.tmp-*`) older than this are left over from a killed writer.
    static let staleAge: TimeInterval = 15 * 60

    /// The package folder of `model` at `version`, relative to the home folder (as the registry records it).
    static func relativePath(model: String, version: Int) -> String {
        "models/\(model)/\(version)"
    }

    /// Makes room for a new package at `directory`. A folder already there was left by a
    /// registration killed before it was recorded; it is renamed to `<version>.orphaned-<time>`
    /// beside it, never deleted or overwritten.
    static func makeRoom(at directory: URL) throws {
        guard FileManager.default.fileExists(atPath: directory.path) else { return }
        let stamp = Int(Date().timeIntervalSince1970)
        let aside = directory.deletingLastPathComponent()
            .appendingPathComponent("\(directory.lastPathComponent).orphaned-\(stamp)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.moveItem(at: directory, to: aside)
    }

    /// Removes the staging folders under `models/*/` that no writer has touched for `staleAge`.
    static func removeStaleStaging(in modelsDirectory: URL, now: Date = Date()) {
        let files = FileManager.default
        for model in (try? files.contentsOfDirectory(atPath: modelsDirectory.path)) ?? [] {
            let folder = modelsDirectory.appendingPathComponent(model)
            for entry in (try? files.contentsOfDirectory(atPath: folder.path)) ?? [] where entry.hasPrefix(".tmp-") {
                let staging = folder.appendingPathComponent(entry)
                guard let modified = (try? files.attributesOfItem(atPath: staging.path))?[.modificationDate] as? Date,
                    now.timeIntervalSince(modified) > staleAge
                else { continue }
                try? files.removeItem(at: staging)
            }
        }
    }
}
