public import FishImaging
import FishNeural
public import Foundation

/// One labelled image of a training set, as found on disk.
public struct DatasetImage: Sendable {
    public let path: String
    public let label: String
    /// The manifest's group column, when given.
    public let group: String?
    public let sha256: String
    public let hash: PerceptualHash
}

/// Reads a training set (an image folder `<class>/<image>` or a CSV manifest `path,label[,group]`),
/// hashing and decoding every file so that unreadable ones are found before training.
public struct DatasetScanner: Sendable {
    /// A file listed for training, before it is read.
    /// One image of the set: its file, its class, and its group (frames of one fish) if known.
    public struct Entry: Sendable {
        public let path: String
        public let label: String
        public let group: String?
    }

    public let maxPixels: Int
    public let threads: Int

    public init(maxPixels: Int, threads: Int) {
        self.maxPixels = maxPixels
        self.threads = threads
    }

    /// The readable images, and the files that could not be read (path and reason).
    public func scan(
        data: URL, manifest: URL?, progress: (Int, Int) -> Void = { _, _ in },
        isCancelled: () -> Bool = { false }
    ) throws -> (images: [DatasetImage], unreadable: [DatasetCheck.Unreadable]) {
        let entries = try manifest.map { try Self.readManifest($0, base: data) } ?? Self.listFolder(data)
        guard !entries.isEmpty else {
            throw ServiceError.invalidArgument(
                "\(manifest?.path ?? data.path): no images found; expected <class>/<image> folders "
                    + "or a manifest with path,label[,group] lines")
        }
        let decoder = ImageDecoder(maxPixels: maxPixels)
        var results = [Result<DatasetImage, DatasetCheck.Unreadable>?](repeating: nil, count: entries.count)
        let chunk = 64
        for start in stride(from: 0, to: entries.count, by: chunk) {
            if isCancelled() { throw ServiceError.cancelled }
            let range = start..<min(start + chunk, entries.count)
            results.withUnsafeMutableBufferPointer { slots in
                Parallel.forEach(range.count, threads: threads) { offset in
                    let entry = entries[range.lowerBound + offset]
                    slots[range.lowerBound + offset] = Self.read(entry, decoder: decoder)
                }
            }
            progress(range.upperBound, entries.count)
        }
        var images: [DatasetImage] = []
        var unreadable: [DatasetCheck.Unreadable] = []
        for result in results {
            switch result {
            case .success(let image)?: images.append(image)
            case .failure(let problem)?: unreadable.append(problem)
            case nil: break
            }
        }
        return (images, unreadable)
    }

    private static func read(_ entry: Entry, decoder: ImageDecoder) -> Result<DatasetImage, DatasetCheck.Unreadable> {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: entry.path))
            let image = try decoder.decode(data, name: entry.path)
            return .success(
                DatasetImage(
                    path: entry.path, label: entry.label, group: entry.group,
                    sha256: ModelPackage.sha256(data), hash: PerceptualHash(of: image)))
        } catch let error as ImagingError {
            return .failure(.init(path: entry.path, reason: "\(error)"))
        } catch {
            return .failure(.init(path: entry.path, reason: "cannot read the file (\(error.localizedDescription))"))
        }
    }

    /// `<class>/<image>` files under `folder`, sorted; files directly in `folder` are not labelled and are skipped.
    static func listFolder(_ folder: URL) throws -> [Entry] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ServiceError.invalidArgument("\(folder.path): no such folder; --data needs a folder of <class>/<image> files")
        }
        let classes = try manager.contentsOfDirectory(atPath: folder.path).filter { name in
            var isFolder: ObjCBool = false
            return !name.hasPrefix(".")
                && manager.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &isFolder)
                && isFolder.boolValue
        }.sorted()
        return try classes.flatMap { label in
            let classFolder = folder.appendingPathComponent(label)
            return try manager.contentsOfDirectory(atPath: classFolder.path)
                .filter { ClassificationService.imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted()
                .map { Entry(path: classFolder.appendingPathComponent($0).path, label: label, group: nil) }
        }
    }

    static func readManifest(_ file: URL, base: URL) throws -> [Entry] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw ServiceError.invalidArgument("\(file.path): cannot read the manifest (a UTF-8 CSV file is expected)")
        }
        return try parseManifest(text, file: file, base: base)
    }

    /// Lines `path,label[,group]` (a first line starting with `path,` is a header); relative paths
    /// are taken from `base`; `file` names the manifest in errors.
    public static func parseManifest(_ text: String, file: URL, base: URL) throws -> [Entry] {
        var entries: [Entry] = []
        for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if fields.allSatisfy(\.isEmpty) || (number == 0 && fields.first?.lowercased() == "path") { continue }
            guard (2...3).contains(fields.count), !fields[0].isEmpty, !fields[1].isEmpty else {
                throw ServiceError.invalidArgument("\(file.path):\(number + 1): expected path,label[,group], found \"\(line)\"")
            }
            let path = fields[0].hasPrefix("/") ? fields[0] : base.appendingPathComponent(fields[0]).path
            entries.append(Entry(path: path, label: fields[1], group: fields.count == 3 && !fields[2].isEmpty ? fields[2] : nil))
        }
        return entries
    }
}
