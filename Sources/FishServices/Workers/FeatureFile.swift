public import FishNeural
public import Foundation

/// Embeddings with their labels in one binary file: the result of an extraction shard, or the
/// training and validation sets handed to trial tasks. Layout (little-endian): "FOFT", version,
/// count, dimension, features computed, features read from the cache (UInt32 each), `count`
/// Int32 labels, then `count * dimension` Float32. Written to a temporary name and renamed.
public enum FeatureFile {
    private static let magic = Array("FOFT".utf8)
    private static let headerBytes = 24

    /// Writes `features` atomically to `url`.
    public static func write(_ features: LabelledFeatures, counters: FeatureExtractor.Counters = .init(), to url: URL) throws {
        var data = Data(capacity: headerBytes + features.count * 4 + features.features.count * 4)
        data.append(contentsOf: magic)
        for value in [1, features.count, features.dimension, counters.computed, counters.cached] {
            withUnsafeBytes(of: UInt32(value).littleEndian) { data.append(contentsOf: $0) }
        }
        features.labels.map { Int32($0).littleEndian }.withUnsafeBytes { data.append(contentsOf: $0) }
        features.features.withUnsafeBytes { data.append(contentsOf: $0) }
        try AtomicFile.write(data, to: url)
    }

    /// Reads a file written by `write`; a missing, short or foreign file is an error naming it.
    public static func read(_ url: URL) throws -> (features: LabelledFeatures, counters: FeatureExtractor.Counters) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw ServiceError.failed("\(url.path): cannot read the feature file") }
        func field(_ index: Int) -> Int {
            data.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4 + 4 * index, as: UInt32.self))) }
        }
        guard data.count >= headerBytes, Array(data.prefix(4)) == magic, field(0) == 1 else {
            throw ServiceError.failed("\(url.path): not a FishOps feature file")
        }
        let (count, dimension) = (field(1), field(2))
        guard data.count == headerBytes + count * 4 + count * dimension * 4 else {
            throw ServiceError.failed("\(url.path): truncated feature file")
        }
        let (labels, floats) = data.withUnsafeBytes { raw in
            let labels = (0..<count).map {
                Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: headerBytes + 4 * $0, as: Int32.self)))
            }
            let start = headerBytes + 4 * count
            let floats = [Float](unsafeUninitializedCapacity: count * dimension) { buffer, initialised in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start...]))
                initialised = count * dimension
            }
            return (labels, floats)
        }
        return (
            LabelledFeatures(features: floats, labels: labels, dimension: dimension),
            FeatureExtractor.Counters(cached: field(4), computed: field(3))
        )
    }
}

/// Whole-file writes that readers (and a crash) never see half done.
public enum AtomicFile {
    /// Writes `data` to a temporary file beside `url`, flushes it and renames it over `url`.
    public static func write(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".tmp-\(UUID().uuidString)-\(url.lastPathComponent)")
        do {
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                throw ServiceError.failed("\(temporary.path): cannot create a temporary file")
            }
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
            guard rename(temporary.path, url.path) == 0 else {
                throw ServiceError.failed("\(url.path): cannot rename into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }
}
