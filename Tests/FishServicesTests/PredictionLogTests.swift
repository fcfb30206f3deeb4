import FishServices
import FishTestSupport
import Foundation
import Testing

/// The prediction log stays within its cap however many answers arrive, from one writer or
/// several, keeps the newest, survives a line cut short, and keeps images within their own cap.
@Suite struct PredictionLogTests {
    static func entry(_ index: Int, at time: Date = Date()) -> PredictionLogEntry {
        PredictionLogEntry(
            at: time, server: "", sha256: String(format: "%064x", index), model: "fish", version: 1 + index % 2,
            top: [
                Prediction(label: "sea bass, \"striped\"", index: 3, probability: 0.7),
                Prediction(label: "trout", index: 5, probability: 0.2),
                Prediction(label: "cod", index: 1, probability: 0.1),
            ],
            latencyMs: Double(index % 50), cached: index % 3 == 0)
    }

    /// Every file of the log's folder with its size.
    static func folderBytes(_ log: PredictionLog) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: log.folder.path).filter { $0.hasSuffix(".jsonl") }.reduce(0) {
            $0
                + ((try FileManager.default.attributesOfItem(atPath: log.folder.appendingPathComponent($1).path)[.size] as? Int)
                    ?? 0)
        }
    }

    @Test func hundredThousandAnswersStayWithinTheCap() throws {
        let log = PredictionLog(home: try Fixtures.temporaryDirectory(), capBytes: 1_048_576)
        let writer = try PredictionLogWriter(log: log)
        writer.name(server: "http://127.0.0.1:8080")
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        // A full queue drops an entry (and counts it); here the sender waits and retries, as this
        // test is about the files' cap.
        for index in 0..<100_000 {
            while !writer.append(Self.entry(index, at: start.addingTimeInterval(Double(index)))) { usleep(1_000) }
        }
        writer.close()
        #expect(log.entries().entries.count < 100_000, "older answers were rotated away")
        let lineBytes = PredictionLog.jsonLine(Self.entry(99_999)).utf8.count + 1
        let held = try Self.folderBytes(log)
        #expect(held <= log.capBytes + lineBytes, "the files hold \(held) bytes")
        #expect(log.sizeBytes <= log.capBytes + lineBytes)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: log.folder.path).filter { $0.hasSuffix(".jsonl") }.count
                <= PredictionLog.files)
        let (entries, unreadable) = log.entries()
        #expect(unreadable == 0 && entries.count > 1000)
        #expect(entries.map(\.at) == entries.map(\.at).sorted(), "oldest first, across the rotated files")
        #expect(entries.last?.sha256 == String(format: "%064x", 99_999), "the newest answer is kept")
        #expect(entries.allSatisfy { $0.server == "http://127.0.0.1:8080" })
        #expect(log.entries(since: start.addingTimeInterval(99_990)).entries.count == 10)
    }

    @Test func twoWritersRotatingTogetherLoseNoLineAndKeepTheCap() throws {
        let home = try Fixtures.temporaryDirectory()
        let log = PredictionLog(home: home, capBytes: 256 * 1024)
        let writers = try (0..<2).map { _ in try PredictionLogWriter(log: log) }
        DispatchQueue.concurrentPerform(iterations: 2) { lane in
            for index in 0..<20_000 {
                while !writers[lane].append(Self.entry(lane * 100_000 + index)) { usleep(1_000) }
            }
        }
        writers.forEach { $0.close() }
        let (entries, unreadable) = log.entries()
        #expect(unreadable == 0, "no line interleaved with another writer's")
        #expect(!entries.isEmpty)
        #expect(try Self.folderBytes(log) <= log.capBytes, "each file within its share")
    }

    @Test func aLineCutShortIsCountedNotFatal() throws {
        let log = PredictionLog(home: try Fixtures.temporaryDirectory())
        let writer = try PredictionLogWriter(log: log)
        for index in 0..<3 { writer.append(Self.entry(index)) }
        writer.close()
        let live = log.folder.appendingPathComponent("log.jsonl")
        let handle = try FileHandle(forWritingTo: live)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(PredictionLog.jsonLine(Self.entry(3)).utf8.prefix(40)))
        try handle.close()
        let (entries, unreadable) = log.entries()
        #expect(entries.count == 3 && unreadable == 1)
        #expect(entries.map(\.sha256) == (0..<3).map { String(format: "%064x", $0) })
    }

    @Test func keptImagesStayWithinTheirCap() throws {
        let log = PredictionLog(home: try Fixtures.temporaryDirectory())
        let writer = try PredictionLogWriter(log: log, keptImagesCapBytes: 100_000)
        let image = Data([0xFF, 0xD8] + [UInt8](repeating: 7, count: 9_998))
        for index in 0..<50 {
            writer.append(Self.entry(index), image: image)
            usleep(2_000)  // distinct modification times
        }
        writer.close()
        let kept = try FileManager.default.contentsOfDirectory(atPath: log.imagesFolder.path)
        #expect(kept.count == 10, "ten images of 10,000 bytes fit in 100,000")
        #expect(kept.contains(String(format: "%064x", 49) + ".jpg"), "the newest is kept")
        let entries = log.entries().entries
        #expect(entries.last?.image == "images/" + String(format: "%064x", 49) + ".jpg")
        // A later server starts from what is there and still keeps the cap.
        let again = try PredictionLogWriter(log: log, keptImagesCapBytes: 100_000)
        again.append(Self.entry(50), image: image)
        again.close()
        #expect(try FileManager.default.contentsOfDirectory(atPath: log.imagesFolder.path).count == 10)
        // Without images kept, no image is written.
        let plain = try PredictionLogWriter(log: PredictionLog(home: try Fixtures.temporaryDirectory()))
        #expect(!plain.keepsImages)
    }

    @Test func sinceTakesDatesTimesAndSpans() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(try PredictionLog.since("30m", now: now) == now.addingTimeInterval(-1800))
        #expect(try PredictionLog.since("2d", now: now) == now.addingTimeInterval(-172_800))
        #expect(try PredictionLog.since("2026-12-02T14:00:00Z") == Date(timeIntervalSince1970: 1_796_220_000))
        #expect(try PredictionLog.since("2026-12-02") == Date(timeIntervalSince1970: 1_796_169_600))
        #expect(throws: ServiceError.self) { try PredictionLog.since("yesterday") }
        #expect(throws: ServiceError.self) { try PredictionLog.since("-5m") }
    }

    @Test func csvQuotesLabelsWithCommasAndQuotes() {
        let row = PredictionLog.csvRow(Self.entry(3, at: Date(timeIntervalSince1970: 1_800_000_000)))
        #expect(row.hasPrefix("2027-01-15T08:00:00Z,,"))
        #expect(row.contains(",fish,2,\"sea bass, \"\"striped\"\"\",0.700000,trout,0.200000,cod,0.100000,3.000,true,"))
    }
}
