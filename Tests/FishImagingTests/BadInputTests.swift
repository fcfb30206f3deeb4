import FishImaging
import FishTestSupport
import Foundation
import Testing

@Suite struct BadInputTests {
    let decoder = ImageDecoder()

    @Test func truncatedJPEGIsRefused() throws {
        let jpeg = try TestImages.jpeg(TestImages.gradient(width: 64, height: 64), width: 64, height: 64)
        #expect {
            _ = try decoder.decode(jpeg.prefix(jpeg.count / 2), name: "cut.jpg")
        } throws: { error in
            guard case let .corrupt(file, format, _)? = error as? ImagingError else { return false }
            return file == "cut.jpg" && format == "JPEG"
        }
    }

    @Test func truncatedPNGIsRefused() throws {
        let png = try TestImages.png(TestImages.gradient(width: 64, height: 64), width: 64, height: 64, colorType: .rgb)
        #expect {
            _ = try decoder.decode(png.prefix(png.count / 2), name: "cut.png")
        } throws: { error in
            guard case let .corrupt(_, format, reason)? = error as? ImagingError else { return false }
            return format == "PNG" && reason.contains("truncated")
        }
    }

    @Test func zeroBytes() throws {
        let path = try Fixtures.file(named: "empty.png", contents: Data())
        #expect(throws: ImagingError.empty(file: path)) { _ = try decoder.decodeFile(atPath: path) }
    }

    @Test func missingFile() {
        #expect {
            _ = try decoder.decodeFile(atPath: "/nonexistent/fish.jpg")
        } throws: { error in
            (error as? ImagingError)?.description == "/nonexistent/fish.jpg: cannot read the file (no such file or directory)"
        }
    }

    @Test func wrongExtensionDecodesByContent() throws {
        let pixels = TestImages.gradient(width: 8, height: 8)
        let path = try Fixtures.file(
            named: "really-a-png.jpg", contents: try TestImages.png(pixels, width: 8, height: 8, colorType: .rgb))
        #expect(try decoder.decodeFile(atPath: path).pixels == pixels)
    }

    @Test func textWithImageExtensionIsUnsupported() throws {
        let path = try Fixtures.file(named: "notes.jpg", contents: Data("hello, fish\n".utf8))
        #expect {
            _ = try decoder.decodeFile(atPath: path)
        } throws: { error in
            guard case let .unsupportedFormat(file, _)? = error as? ImagingError else { return false }
            return file == path && "\(error)".contains("use JPEG or PNG")
        }
    }

    @Test func otherFormatsAreNamed() {
        #expect {
            _ = try decoder.decode(Data("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8), name: "x.gif")
        } throws: { error in
            "\(error)".contains("looks like GIF")
        }
    }

    @Test func hugePNGDimensionsAreRefusedBeforeDecoding() throws {
        var png = [UInt8](try TestImages.png([1, 2, 3], width: 1, height: 1, colorType: .rgb))
        // IHDR data starts at byte 16: width and height (big-endian), then its CRC at byte 29.
        let side: [UInt8] = [0, 0, 0x4E, 0x20]  // 20000 px: 400 MP in all
        png.replaceSubrange(16..<20, with: side)
        png.replaceSubrange(20..<24, with: side)
        let crc = TestImages.crc32(png[12..<29])
        png.replaceSubrange(
            29..<33, with: [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)])
        #expect {
            _ = try decoder.decode(Data(png), name: "huge.png")
        } throws: { error in
            guard case let .tooLarge(_, detail)? = error as? ImagingError else { return false }
            return detail.contains("20000x20000")
        }
    }

    @Test func hugeJPEGDimensionsAreRefusedBeforeDecoding() throws {
        var jpeg = [UInt8](try TestImages.jpeg(TestImages.gradient(width: 8, height: 8), width: 8, height: 8))
        let sof = try #require(jpeg.indices.first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [0xEA, 0x60, 0xEA, 0x60])  // 60000 x 60000
        #expect {
            _ = try decoder.decode(Data(jpeg), name: "huge.jpg")
        } throws: { error in
            guard case .tooLarge? = error as? ImagingError else { return false }
            return "\(error)".contains("huge.jpg")
        }
    }

    @Test func pixelLimitIsConfigurable() throws {
        let png = try TestImages.png(TestImages.gradient(width: 20, height: 20), width: 20, height: 20, colorType: .rgb)
        #expect(throws: ImagingError.self) { _ = try ImageDecoder(maxPixels: 399).decode(png, name: "small.png") }
        #expect(try ImageDecoder(maxPixels: 400).decode(png, name: "small.png").width == 20)
    }
}
