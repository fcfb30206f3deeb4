import FishStore
public import Foundation

/// One answer a server gave, as the prediction log keeps it (one JSON line each).
public struct PredictionLogEntry: Codable, Sendable, Equatable {
    public var at: Date
    /// The server that answered (its base URL).
    public var server: String
    /// The sha256 of the image bytes, hex.
    public var sha256: String
    public var model: String
    public var version: Int
    /// The top three classes with their probabilities.
    public var top: [Prediction]
    public var latencyMs: Double
    public var cached: Bool
    /// The kept image, relative to the log's folder (only with `--keep-images low-confidence`).
    public var image: String?

    public init(
        at: Date, server: String, sha256: String, model: String, version: Int, top: [Prediction], latencyMs: Double,
        cached: Bool, image: String? = nil
    ) {
        self.at = at
        self.server = server
        self.sha256 = sha256
        self.model = model
        self.version = version
        self.top = top
        self.latencyMs = latencyMs
        self.cached = cached
        self.image = image
    }

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) {
                return date
            }
            return try Date(text, strategy: .iso8601)
        }
        return decoder
    }
}

/// The prediction log under `$FISHOPS_HOME/predictions`: `log.jsonl`, rotated to `log.1.jsonl`
/// ... `log.<files-1>.jsonl` when it reaches its share of the size cap, so the whole log stays
/// within the cap however long the servers run. Several servers may append at once (each writes a
/// batch holding `rotate.lock`).
public struct PredictionLog: Sendable {
    /// The log's folder.
    public let folder: URL
    /// The most bytes the log's files hold together (give or take a line longer than a file's share).
    public let capBytes: Int
    /// Files the cap is spread over: the live one and the rotated ones.
    public static let files = 4

    public init(home: URL, capBytes: Int = 64 * 1024 * 1024) {
        folder = home.appendingPathComponent("predictions")
        self.capBytes = max(capBytes, 4096)
    }

    /// Where kept images go.
    public var imagesFolder: URL { folder.appendingPathComponent("images") }

    /// The live file.
    var live: URL { folder.appendingPathComponent("log.jsonl") }

    /// The files from oldest to newest.
    var filesOldestFirst: [URL] {
        (1..<Self.files).reversed().map { folder.appendingPathComponent("log.\($0).jsonl") } + [live]
    }

    /// The entries at or after `since`, oldest first, and how many lines could not be read (a
    /// line cut short by a server killed mid-write).
    public func entries(since: Date? = nil) -> (entries: [PredictionLogEntry], unreadable: Int) {
        let decoder = PredictionLogEntry.decoder()
        var entries: [PredictionLogEntry] = []
        var unreadable = 0
        for file in filesOldestFirst {
            guard let data = FileManager.default.contents(atPath: file.path) else { continue }
            for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                guard let entry = try? decoder.decode(PredictionLogEntry.self, from: line) else {
                    unreadable += 1
                    continue
                }
                if since.map({ entry.at >= $0 }) ?? true { entries.append(entry) }
            }
        }
        return (entries, unreadable)
    }

    /// Bytes the log's files hold now.
    public var sizeBytes: Int {
        filesOldestFirst.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1.path)[.size] as? Int) ?? 0) }
    }
}

/// Appends a server's answers to the prediction log on a thread of its own, so answering never
/// waits for the disk: at most `queueLimit` entries (and `imageQueueBytes` of images) wait, and
/// beyond that new ones are dropped and counted. With `keptImages`, the images of answers below
/// the low-confidence threshold are kept beside the log, within their own cap.
public final class PredictionLogWriter: @unchecked Sendable {
    public let log: PredictionLog
    /// Entries waiting for the writer thread before new ones are dropped.
    public static let queueLimit = 10_000
    /// Image bytes waiting for the writer thread before new images are dropped (their entries are kept).
    public static let imageQueueBytes = 64 * 1024 * 1024
    // `queue`, `queuedImageBytes`, `stopping` and `droppedCount` are guarded by `condition`'s lock.
    private let condition = NSCondition()
    private var queue: [(entry: PredictionLogEntry, image: Data?)] = []
    private var queuedImageBytes = 0
    private var stopping = false
    private var droppedCount = 0
    private var server = ""
    private let finished = DispatchSemaphore(value: 0)
    // Touched by the writer thread only.
    private var descriptor: Int32 = -1
    /// The live file's path with symbolic links resolved, as `/proc/self/fd` shows an open file.
    private let resolvedLivePath: String
    private var kept: KeptImages?

    /// Starts the writer thread; the folder is created if needed. `keptImagesCapBytes` turns on
    /// keeping low-confidence images, up to that many bytes.
    public init(log: PredictionLog, keptImagesCapBytes: Int? = nil) throws(ServiceError) {
        self.log = log
        do {
            try FileManager.default.createDirectory(at: log.folder, withIntermediateDirectories: true)
            kept = try keptImagesCapBytes.map { try KeptImages(folder: log.imagesFolder, capBytes: $0) }
            keepsImages = kept != nil
            resolvedLivePath = log.folder.resolvingSymlinksInPath().appendingPathComponent(log.live.lastPathComponent).path
        } catch {
            throw .failed("cannot create the prediction log folder \(log.folder.path): \(error.localizedDescription)")
        }
        let thread = Thread { [self] in run() }
        thread.name = "fishops-prediction-log"
        thread.start()
    }

    /// Names the server whose answers these are (its URL, once bound): entries queued without a
    /// server name get it.
    public func name(server url: String) {
        condition.lock()
        server = url
        condition.unlock()
    }

    /// Whether images of low-confidence answers are kept.
    public let keepsImages: Bool

    /// Queues `entry`, with the image's bytes to keep when given (and images are kept); returns
    /// false when the queue is full and the entry was dropped.
    @discardableResult
    public func append(_ entry: PredictionLogEntry, image: Data? = nil) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping, queue.count < Self.queueLimit else {
            droppedCount += 1
            return false
        }
        let image = image.flatMap { keepsImages && queuedImageBytes + $0.count <= Self.imageQueueBytes ? $0 : nil }
        queuedImageBytes += image?.count ?? 0
        queue.append((entry, image))
        condition.signal()
        return true
    }

    /// Entries dropped because the queue was full.
    public var dropped: Int {
        condition.lock()
        defer { condition.unlock() }
        return droppedCount
    }

    /// Writes what is queued, then stops the thread.
    public func close() {
        condition.lock()
        let first = !stopping
        stopping = true
        condition.broadcast()
        condition.unlock()
        if first { finished.wait() }
    }

    private func run() {
        let encoder = PredictionLogEntry.encoder()
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            let batch = queue
            queue = []
            queuedImageBytes = 0
            let (done, server) = (stopping, server)
            condition.unlock()
            var lines: [[UInt8]] = []
            lines.reserveCapacity(batch.count)
            for (entry, image) in batch {
                var entry = entry
                if entry.server.isEmpty { entry.server = server }
                if let image { entry.image = kept?.keep(image, sha256: entry.sha256) }
                guard let line = try? encoder.encode(entry) else { continue }
                lines.append(Array(line) + [UInt8(ascii: "\n")])
            }
            write(lines)
            if done { break }
        }
        if descriptor >= 0 { Foundation.close(descriptor) }
        finished.signal()
    }

    /// Appends `lines` to the live file, as few `write`s as fit in its share of the cap, rotating
    /// whenever the next line would not fit. The whole batch is written holding `rotate.lock`, so
    /// another writer can neither rotate the file away under this one nor fill the same share at
    /// the same moment: every file stays within its share (one line longer than a share excepted).
    private func write(_ lines: [[UInt8]]) {
        guard !lines.isEmpty else { return }
        let share = log.capBytes / PredictionLog.files
        FileLock.holding(log.folder.appendingPathComponent("rotate.lock")) {
            var chunk: [UInt8] = []
            var index = 0
            while index < lines.count {
                reopenIfRotated()
                guard descriptor >= 0 else { return }
                var size = max(Int(lseek(descriptor, 0, SEEK_END)), 0)
                if size > 0, size + lines[index].count > share {
                    shiftFiles()
                    reopenIfRotated()
                    size = 0
                }
                chunk.removeAll(keepingCapacity: true)
                // At least one line per file, however long.
                repeat {
                    chunk += lines[index]
                    index += 1
                } while index < lines.count && size + chunk.count + lines[index].count <= share
                _ = chunk.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            }
        }
    }

    /// Opens the live file when none is open, or when another writer has rotated it away (the
    /// open file's path, as `/proc/self/fd` tells it, is no longer the live one).
    private func reopenIfRotated() {
        let current =
            descriptor >= 0
            && (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)")) == resolvedLivePath
        guard !current else { return }
        if descriptor >= 0 { Foundation.close(descriptor) }
        descriptor = Foundation.open(log.live.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    }

    /// Shifts `log.jsonl` to `log.1.jsonl` and each rotated file one further, dropping the oldest
    /// (called holding `rotate.lock`).
    private func shiftFiles() {
        let files = log.filesOldestFirst
        for (older, newer) in zip(files, files.dropFirst()) {
            _ = Foundation.rename(newer.path, older.path)
        }
    }
}

/// Images kept beside the prediction log (`images/<sha256>.<jpg|png|bin>`), the oldest deleted
/// once they hold more than `capBytes` together.
struct KeptImages {
    let folder: URL
    let capBytes: Int
    /// Kept files, oldest first, with their sizes.
    private var files: [(name: String, bytes: Int)]
    private var total: Int

    init(folder: URL, capBytes: Int) throws {
        self.folder = folder
        self.capBytes = max(capBytes, 0)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let keys: [URLResourceKey] = [.contentModificationDateKey, .fileSizeKey]
        let found = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: keys).map { url in
            let values = try? url.resourceValues(forKeys: Set(keys))
            return (url.lastPathComponent, values?.fileSize ?? 0, values?.contentModificationDate ?? .distantPast)
        }
        files = found.sorted { $0.2 < $1.2 }.map { ($0.0, $0.1) }
        total = files.reduce(0) { $0 + $1.bytes }
    }

    /// Writes `image` (once per sha256) and returns its path relative to the log's folder; deletes
    /// the oldest kept images while the total is over the cap.
    mutating func keep(_ image: Data, sha256: String) -> String? {
        guard image.count <= capBytes else { return nil }
        let name = sha256 + "." + Self.fileExtension(image)
        if !files.contains(where: { $0.name == name }) {
            guard (try? image.write(to: folder.appendingPathComponent(name), options: .atomic)) != nil else { return nil }
            files.append((name, image.count))
            total += image.count
        }
        while total > capBytes, let oldest = files.first {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(oldest.name))
            files.removeFirst()
            total -= oldest.bytes
        }
        return files.contains { $0.name == name } ? "images/" + name : nil
    }

    /// Bytes kept now.
    var sizeBytes: Int { total }

    private static func fileExtension(_ image: Data) -> String {
        if image.starts(with: [0xFF, 0xD8]) { return "jpg" }
        if image.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "png" }
        return "bin"
    }
}

extension PredictionLog {
    /// A `--since` value: an ISO 8601 date or date-time (`2026-12-02`, `2026-12-02T14:00:00Z`), or
    /// a span back from `now` (`90s`, `30m`, `2h`, `7d`).
    public static func since(_ text: String, now: Date = Date()) throws(ServiceError) -> Date {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = text.last.flatMap({ units[$0] }), let count = Double(text.dropLast()), count >= 0 {
            return now.addingTimeInterval(-count * unit)
        }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if let day = try? Date(text, strategy: .iso8601.year().month().day()) { return day }
        throw .invalidArgument(
            "--since \(text.debugDescription): give a date (2026-12-02), a time (2026-12-02T14:00:00Z) or a span back from now (30m, 2h, 7d)"
        )
    }

    /// `entry` as one CSV row (RFC 4180 quoting) under `csvHeader`.
    public static func csvRow(_ entry: PredictionLogEntry) -> String {
        let top = (0..<3).flatMap { index in
            entry.top.indices.contains(index)
                ? [entry.top[index].label, String(format: "%.6f", entry.top[index].probability)] : ["", ""]
        }
        let fields =
            [entry.at.formatted(.iso8601), entry.server, entry.sha256, entry.model, String(entry.version)] + top
            + [String(format: "%.3f", entry.latencyMs), String(entry.cached), entry.image ?? ""]
        return fields.map { field in
            field.contains(where: { ",\"\n\r".contains($0) })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }

    public static let csvHeader = "at,server,sha256,model,version,top1,p1,top2,p2,top3,p3,latency_ms,cached,image"

    /// `entry` as one JSON line (the log's own form).
    public static func jsonLine(_ entry: PredictionLogEntry) -> String {
        (try? PredictionLogEntry.encoder().encode(entry)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
