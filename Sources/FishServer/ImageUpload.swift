import Foundation
public import Hummingbird
import MultipartKit
import NIOHTTP1

/// The images of a request: the raw body, or the file parts of a `multipart/form-data` body.
public struct ImageUpload: Sendable {
    /// The part's file name, else its field name, else "image N".
    public let name: String
    public let bytes: ByteBuffer

    /// Every image in `body`. A multipart part is an image when it carries a file name or its
    /// field is called `image` or `images`; other fields are ignored. A body of more than `maxParts`
    /// parts is refused before it is parsed.
    public static func all(in body: ByteBuffer, contentType: String?, maxParts: Int) throws(APIError) -> [ImageUpload] {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/") else {
            return [ImageUpload(name: "image 1", bytes: body)]
        }
        guard let boundary = parameter("boundary", in: contentType), !boundary.isEmpty else {
            throw APIError(status: .badRequest, code: "bad_multipart", message: "the multipart Content-Type has no boundary")
        }
        let scan = MultipartScan(body: body, boundary: boundary)
        guard scan.parts <= maxParts else {
            throw APIError(
                status: .contentTooLarge, code: "too_many_parts",
                message: "the multipart body has \(scan.parts) parts; the limit is \(maxParts)")
        }
        guard scan.headerNamesAreASCII else {
            throw APIError(status: .badRequest, code: "bad_multipart", message: "a multipart header name holds a non-ASCII byte")
        }
        let parts: [MultipartPart]
        do { parts = try Self.parts(of: body, boundary: boundary) } catch {
            throw APIError(status: .badRequest, code: "bad_multipart", message: "the multipart body could not be parsed")
        }
        var images: [ImageUpload] = []
        for part in parts {
            let disposition = part.headers.first(name: "Content-Disposition") ?? ""
            let fileName = parameter("filename", in: disposition)
            guard fileName != nil || ["image", "images", "images[]"].contains(part.name ?? "") else { continue }
            images.append(ImageUpload(name: fileName ?? part.name ?? "image \(images.count + 1)", bytes: part.body))
        }
        return images
    }

    private static func parts(of body: ByteBuffer, boundary: String) throws -> [MultipartPart] {
        let parser = MultipartParser(boundary: boundary)
        var parts: [MultipartPart] = []
        var headers = HTTPHeaders()
        var content = ByteBuffer()
        parser.onHeader = { name, value in headers.add(name: name, value: value) }
        parser.onBody = { chunk in content.writeBuffer(&chunk) }
        parser.onPartComplete = {
            parts.append(MultipartPart(headers: headers, body: content))
            headers = HTTPHeaders()
            content = ByteBuffer()
        }
        try parser.execute(body)
        return parts
    }

    /// The value of `name=value` or `name="value"` among the `;`-separated parameters of a header.
    static func parameter(_ name: String, in header: String) -> String? {
        for item in header.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == name else { continue }
            return pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2
                ? String(pair[1].dropFirst().dropLast()) : pair[1]
        }
        return nil
    }
}
