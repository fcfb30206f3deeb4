import Foundation

/// `--group-by REGEX`: images whose file names carry the same id (a video track, a camera clip)
/// form one group, so they land on one side of the split. The id is the pattern's first capture
/// group, or its whole match when it has none; a file the pattern does not match is a group of
/// its own. Groups are per class: one video showing two species gives two groups.
public struct FileNameGroups: Sendable {
    public let pattern: String

    /// Checks that `pattern` is a regular expression.
    public init(_ pattern: String) throws(ServiceError) {
        guard (try? Regex(pattern)) != nil else {
            throw .invalidArgument(
                "--group-by \(pattern.debugDescription) is not a regular expression; for file names like "
                    + "fish_000027080001_02813.png, fish_([0-9]+)_ groups by the first number")
        }
        self.pattern = pattern
    }

    /// `images` with a group from their file names where they have none from a manifest.
    public func grouped(_ images: [DatasetImage]) -> [DatasetImage] {
        guard let regex = try? Regex(pattern) else { return images }
        return images.map { image in
            guard image.group == nil, let id = Self.id(inNameOf: image.path, regex) else { return image }
            return DatasetImage(
                path: image.path, label: image.label, group: "\(image.label)/\(id)", sha256: image.sha256, hash: image.hash)
        }
    }

    /// The id `regex` finds in the file name of `path`: its first capture group, else its match.
    static func id(inNameOf path: String, _ regex: Regex<AnyRegexOutput>) -> Substring? {
        guard let match = try? regex.firstMatch(in: (path as NSString).lastPathComponent) else { return nil }
        return match.output.count > 1 ? match.output[1].substring : match.output[0].substring
    }
}
