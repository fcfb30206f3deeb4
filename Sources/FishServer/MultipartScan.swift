import Foundation
import NIOCore

/// A first pass over a multipart body, before MultipartKit parses it: how many parts it holds,
/// and whether every part's header names are ASCII. MultipartKit 4.7.1 looks header-name bytes up
/// in a 128-entry table, so one byte of 0x80 or more in a header name (a 238-byte request, found by
/// fuzzing) crashed the whole server; such a body is refused here instead.
///
/// MultipartKit starts a part's headers only right after `--BOUNDARY` and a CRLF, so every such
/// place is checked (a superset of the parts it will see: its preamble matching skips some); the
/// header block runs to the first empty line, and a header name ends at its colon.
struct MultipartScan {
    private(set) var parts = 0
    private(set) var headerNamesAreASCII = true

    init(body: ByteBuffer, boundary: String) {
        let delimiter = Array("--\(boundary)\r\n".utf8)
        body.withUnsafeReadableBytes { bytes in
            var from = 0
            while let found = Self.find(delimiter, in: bytes, from: from) {
                parts += 1
                if headerNamesAreASCII, !Self.headerNamesAreASCII(bytes, from: found + delimiter.count) {
                    headerNamesAreASCII = false
                }
                from = found + delimiter.count
            }
        }
    }

    /// Whether the header names of the block starting at `start` hold only ASCII bytes.
    private static func headerNamesAreASCII(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Bool {
        var index = start
        var inName = true
        var lineStart = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\r") {
                if lineStart { return true }  // the empty line: end of the headers
                inName = true
                lineStart = true
                index += 2
                continue
            }
            lineStart = false
            if inName {
                if byte == UInt8(ascii: ":") { inName = false } else if byte >= 0x80 { return false }
            }
            index += 1
        }
        return true
    }

    /// The offset of the first `pattern` in `bytes` at or after `start`.
    private static func find(_ pattern: [UInt8], in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let first = pattern.first, let base = bytes.baseAddress else { return nil }
        var offset = start
        while offset + pattern.count <= bytes.count,
            let found = memchr(base + offset, Int32(first), bytes.count - offset - pattern.count + 1)
        {
            let candidate = base.distance(to: UnsafeRawPointer(found))
            if memcmp(found, pattern, pattern.count) == 0 { return candidate }
            offset = candidate + 1
        }
        return nil
    }
}
