import Crypto
public import FishRecords
public import Foundation

/// Files stored by content: `objects/<2 hex>/<62 hex>` named by sha256. A write goes to a
/// temporary file that is flushed and renamed into place, so readers never see partial content
/// and a killed writer leaves at most a stray temporary file; identical content is stored once.
public struct ArtifactStore: Sendable {
    public let root: URL

    init(root: URL) throws(StoreError) {
        self.root = root
        do {
            try FileManager.default.createDirectory(at: root.appendingPathComponent("tmp"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: root.appendingPathComponent("objects"), withIntermediateDirectories: true)
        } catch {
            throw .cannotOpen(path: root.path, detail: "cannot create the artifact folder")
        }
    }

    /// Stores `data` and returns its sha256.
    @discardableResult
    public func put(_ data: Data) throws(StoreError) -> String {
        let digest = Self.sha256(data)
        let target = location(of: digest)
        if FileManager.default.fileExists(atPath: target.path) { return digest }
        let temporary = root.appendingPathComponent("tmp/\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                throw StoreError.cannotOpen(path: temporary.path, detail: "cannot create a temporary file")
            }
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
            guard rename(temporary.path, target.path) == 0 else {
                throw StoreError.cannotOpen(path: target.path, detail: String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if let storeError = error as? StoreError { throw storeError }
            throw .cannotOpen(path: target.path, detail: "\(error)")
        }
        return digest
    }

    /// The content stored under `digest`, checked against it.
    public func get(_ digest: String) throws(StoreError) -> Data {
        guard let data = try? Data(contentsOf: location(of: digest)) else {
            throw .notFound("artifact \(digest) is missing from \(root.path)")
        }
        guard Self.sha256(data) == digest else {
            throw .corrupt(path: location(of: digest).path, detail: "content does not match its sha256")
        }
        return data
    }

    /// Where the content named `digest` lives.
    public func location(of digest: String) -> URL {
        root.appendingPathComponent("objects/\(digest.prefix(2))/\(digest.dropFirst(2))")
    }

    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
