import FishNeural
public import Foundation

/// Backbone embeddings on disk, one small file per image view, keyed by the image's sha256,
/// the backbone weights' hash, the preprocessing and the view. Files are written to a
/// temporary name and renamed, so an interrupted run leaves only whole entries behind.
public struct FeatureCache: Sendable {
    public let directory: URL
    /// Everything but the image and view that the features depend on.
    private let context: String
    private let width: Int

    public init(directory: URL, backboneSha256: String, preprocessing: String, width: Int) {
        self.directory = directory
        context = "\(backboneSha256)\n\(preprocessing)"
        self.width = width
    }

    /// The cached features of `view` of the image with `sha256`, or nil.
    public func features(image sha256: String, view: Int) -> [Float]? {
        guard let data = try? Data(contentsOf: file(image: sha256, view: view)),
            data.count == width * MemoryLayout<Float>.size
        else { return nil }
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// Stores features; a failure to write only costs a recomputation later.
    public func store(_ features: ArraySlice<Float>, image sha256: String, view: Int) {
        let target = file(image: sha256, view: view)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".tmp-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try features.withUnsafeBytes { Data($0) }.write(to: temporary)
            guard rename(temporary.path, target.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
        }
    }

    private func file(image sha256: String, view: Int) -> URL {
        let key = ModelPackage.sha256(Data("\(sha256)\n\(context)\nview \(view)".utf8))
        return directory.appendingPathComponent(String(key.prefix(2))).appendingPathComponent("\(key).f32")
    }
}
