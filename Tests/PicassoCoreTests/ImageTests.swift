import CJPEG
import CPNG
import Foundation
import PicassoCore
import Testing

/// PNG and JPEG reading of every supported kind, EXIF orientation, refusals, resizing.
struct ImageTests {
  // libpng's format flags (png.h; the combined PNG_FORMAT_* macros do not import into Swift).
  let alpha: UInt32 = 0x01, color: UInt32 = 0x02, linear: UInt32 = 0x04, colormap: UInt32 = 0x08
  /// A 5×3 test picture with distinct pixels.
  let picture: RGBImage = {
    var p: [UInt8] = []
    for y in 0..<3 { for x in 0..<5 { p += [UInt8(40 * x), UInt8(80 * y), UInt8(200 - 10 * x - 20 * y)] } }
    return RGBImage(width: 5, height: 3, pixels: p)
  }()

  /// Encodes `pixels` as PNG with libpng's simplified writer in the given format.
  func png(_ pixels: [UInt8], width: Int, height: Int, format: UInt32, sixteenBit: Bool = false) -> [UInt8] {
    var image = CPNG_image()
    image.width = UInt32(width)
    image.height = UInt32(height)
    image.format = format | (sixteenBit ? linear : 0)
    var data = pixels
    if sixteenBit {
      // Linear 16-bit samples: v/255 of full scale (alpha stays linear too).
      let words = pixels.map { UInt16($0) * 257 }
      data = words.withUnsafeBytes { Array($0) }
    }
    var size = 0
    _ = data.withUnsafeBytes { png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, 0, nil) }
    var out = [UInt8](repeating: 0, count: size)
    let ok = out.withUnsafeMutableBytes { dst in
      data.withUnsafeBytes { png_image_write_to_memory(&image, dst.baseAddress, &size, 0, $0.baseAddress, 0, nil) }
    }
    precondition(ok != 0)
    return Array(out.prefix(size))
  }

  @Test func pngRoundTripIsExact() throws {
    let decoded = try RGBImage.decode(try picture.encodePNG())
    #expect(decoded == picture)
  }

  @Test func pngGreyAndGreyAlphaAndRGBA() throws {
    let grey: [UInt8] = (0..<15).map { UInt8($0 * 17) }
    let g = try RGBImage.decode(png(grey, width: 5, height: 3, format: 0))
    #expect(g.pixels == grey.flatMap { [$0, $0, $0] })

    // Opaque alpha keeps the colour; zero alpha becomes the white background.
    let ga: [UInt8] = (0..<15).flatMap { [UInt8($0 * 17), $0 % 2 == 0 ? 255 : 0] }
    let gaImage = try RGBImage.decode(png(ga, width: 5, height: 3, format: alpha))
    for i in 0..<15 {
      let expected: UInt8 = i % 2 == 0 ? UInt8(i * 17) : 255
      #expect(gaImage.pixels[3 * i] == expected)
    }

    let rgba = stride(from: 0, to: 45, by: 3).flatMap { [picture.pixels[$0], picture.pixels[$0 + 1], picture.pixels[$0 + 2], UInt8(255)] }
    #expect(try RGBImage.decode(png(rgba, width: 5, height: 3, format: color | alpha)) == picture)
  }

  @Test func png16BitAndPalette() throws {
    let sixteen = try RGBImage.decode(png(picture.pixels, width: 5, height: 3, format: color, sixteenBit: true))
    // 16-bit linear data is converted to 8-bit sRGB: check it decodes, has the size, and
    // keeps the order of intensities.
    #expect(sixteen.width == 5 && sixteen.height == 3)
    #expect(sixteen.pixels[0] < sixteen.pixels[3 * 4])

    // Palette: 4 colours → color_COLORMAP written by libpng from an RGB image.
    var image = CPNG_image()
    image.width = 4
    image.height = 1
    image.format = color | colormap
    image.colormap_entries = 4
    let palette: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]
    let indices: [UInt8] = [0, 1, 2, 3]
    var size = 0
    _ = indices.withUnsafeBytes { i in palette.withUnsafeBytes { png_image_write_to_memory(&image, nil, &size, 0, i.baseAddress, 0, $0.baseAddress) } }
    var out = [UInt8](repeating: 0, count: size)
    _ = out.withUnsafeMutableBytes { dst in indices.withUnsafeBytes { i in palette.withUnsafeBytes {
      png_image_write_to_memory(&image, dst.baseAddress, &size, 0, i.baseAddress, 0, $0.baseAddress) } } }
    let decoded = try RGBImage.decode(Array(out.prefix(size)))
    #expect(decoded.pixels == palette)
  }

  @Test func jpegRGBAndGrey() throws {
    let big = picture.resized(width: 40, height: 24)
    let decoded = try RGBImage.decode(try big.encodeJPEG(quality: 95))
    #expect(decoded.width == 40 && decoded.height == 24)
    var worst = 0
    for i in 0..<big.pixels.count { worst = max(worst, abs(Int(decoded.pixels[i]) - Int(big.pixels[i]))) }
    #expect(worst < 40, "JPEG q95 error \(worst)")

    let grey = [UInt8](repeating: 128, count: 16 * 8)
    let greyJPEG = try encode(grey, width: 16, height: 8, components: 1)
    let g = try RGBImage.decode(greyJPEG)
    #expect(g.pixels.allSatisfy { abs(Int($0) - 128) <= 1 })
  }

  func encode(_ pixels: [UInt8], width: Int, height: Int, components: Int32) throws -> [UInt8] {
    var buffer: UnsafeMutablePointer<UInt8>? = nil
    var size: UInt = 0
    var message = [CChar](repeating: 0, count: 200)
    #expect(CJPEG_encode(pixels, Int32(width), Int32(height), components, 90, &buffer, &size, &message) == 0)
    defer { CJPEG_free(buffer) }
    return Array(UnsafeBufferPointer(start: buffer!, count: Int(size)))
  }

  @Test func cmykJPEGIsRefused() throws {
    let cmyk = try encode([UInt8](repeating: 100, count: 8 * 8 * 4), width: 8, height: 8, components: 4)
    #expect { try RGBImage.decode(cmyk) } throws: { "\($0)".contains("CMYK") }
  }

  /// A JPEG with an APP1 Exif segment holding orientation `value`.
  func jpeg(_ image: RGBImage, orientation value: UInt8) throws -> [UInt8] {
    let base = try image.encodeJPEG(quality: 100)
    let tiff: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, value, 0, 0, 0, 0, 0, 0, 0]
    let payload = Array("Exif\0\0".utf8) + tiff
    let length = payload.count + 2
    return [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload + base.dropFirst(2)
  }

  @Test func exifOrientationMakesPhotosUpright() throws {
    // A tall 8×16 image: top half black, bottom half white; a left-right gradient is
    // unnecessary: the rotation is recognisable from which side is dark.
    var pixels: [UInt8] = []
    for y in 0..<16 { for _ in 0..<8 { pixels += y < 8 ? [0, 0, 0] : [255, 255, 255] } }
    let tall = RGBImage(width: 8, height: 16, pixels: pixels)
    for (value, expectW, darkSide) in [(1, 8, "top"), (3, 8, "bottom"), (6, 16, "right"), (8, 16, "left")] {
      let decoded = try RGBImage.decode(jpeg(tall, orientation: UInt8(value)))
      #expect(decoded.width == expectW, "orientation \(value)")
      func at(_ x: Int, _ y: Int) -> Int { Int(decoded.pixels[(y * decoded.width + x) * 3]) }
      let (w, h) = (decoded.width, decoded.height)
      switch darkSide {
      case "top": #expect(at(w / 2, 1) < 60 && at(w / 2, h - 2) > 200)
      case "bottom": #expect(at(w / 2, 1) > 200 && at(w / 2, h - 2) < 60)
      case "right": #expect(at(w - 2, h / 2) < 60 && at(1, h / 2) > 200, "orientation 6")
      default: #expect(at(1, h / 2) < 60 && at(w - 2, h / 2) > 200, "orientation 8")
      }
    }
  }

  @Test func exifParserSurvivesGarbage() {
    #expect(EXIF.orientation([]) == 1)
    #expect(EXIF.orientation(Array("Exif\0\0MM\0*\0\0\0\u{8}\0\u{40}".utf8)) == 1)
    #expect(EXIF.orientation(Array("Exif\0\0II*\0\u{ff}\u{ff}\u{ff}\u{7f}".utf8)) == 1)
    let bigEndian: [UInt8] = Array("Exif\0\0".utf8) + [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]
    #expect(EXIF.orientation(bigEndian) == 6)
  }

  @Test func truncatedFilesAreErrors() throws {
    let big = picture.resized(width: 64, height: 48)
    let jpg = try big.encodeJPEG(quality: 90)
    #expect { try RGBImage.decode(Array(jpg.prefix(jpg.count / 2))) } throws: { "\($0)".contains("truncated") }
    let pngBytes = try big.encodePNG()
    #expect { try RGBImage.decode(Array(pngBytes.prefix(pngBytes.count / 2))) } throws: { "\($0)".contains("PNG") }
    #expect { try RGBImage.decode(Array("hello".utf8)) } throws: { "\($0)".contains("not a PNG or JPEG") }
    #expect { try RGBImage.decode([]) } throws: { "\($0)".contains("empty") }
  }

  @Test func hugeDeclaredSizesAreRefusedBeforeAllocating() throws {
    // Patch a small PNG's IHDR to declare 100000 × 100000 (the CRC is then wrong, which
    // libpng reports as well; either way nothing is allocated).
    var bytes = try picture.encodePNG()
    let dims: [UInt8] = [0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0]
    bytes.replaceSubrange(16..<24, with: dims)
    #expect(throws: (any Error).self) { try RGBImage.decode(bytes) }
    #expect { try RGBImage.decode(try picture.encodePNG(), maxPixels: 10) } throws: { "\($0)".contains("limit") }
    #expect { try RGBImage.decode(try picture.encodeJPEG(quality: 90), maxPixels: 10) } throws: { "\($0)".contains("limit") }
  }

  @Test func plotTicksAreRoundNumbersInsideTheRange() {
    #expect(LinePlot.ticks(0, 100).values == [0, 20, 40, 60, 80, 100])
    #expect(LinePlot.ticks(7, 1579).values == [250, 500, 750, 1000, 1250, 1500])
    #expect(LinePlot.ticks(-0.3, 0.9).values == [-0.25, 0, 0.25, 0.5, 0.75])
    #expect(LinePlot.ticks(1, 2).step == 0.2 && LinePlot.ticks(1, 2).values.count == 6)
    for (lo, hi) in [(3.0, 4.0), (0, 1e6), (-5e-3, 7e-3), (1580, 1729)] {
      let t = LinePlot.ticks(lo, hi)
      #expect(t.values.count >= 3 && t.values.count <= 8, "\(lo)…\(hi): \(t.values)")
      #expect(t.values.allSatisfy { $0 >= lo && $0 <= hi })
    }
    #expect(LinePlot.label(750, step: 250) == "750")
    #expect(LinePlot.label(0.75, step: 0.25) == "0.75")
    #expect(LinePlot.label(1.5, step: 0.5) == "1.5")
  }

  @Test func plotLegendGoesToTheCornerTheLinesLeaveFree() {
    let plot = (left: 80, top: 40, width: 700, height: 410)
    func corner(_ points: [(x: Int, y: Int)]) -> (x: Int, y: Int) {
      LinePlot.legendBox(width: 150, height: 28, plot: plot, avoiding: points)
    }
    let (right, left, top, bottom) = (80 + 700 - 8 - 150, 80 + 12, 40 + 8, 40 + 410 - 8 - 28)
    #expect(corner([]) == (right, top))
    // A curve that rises to the top right (equivalent iterations against minutes).
    let rising = (0..<700).map { (x: 80 + $0, y: 40 + 409 - $0 * 409 / 699) }
    #expect(corner(rising) == (right, bottom))
    let alongTheTop = (0..<700).map { (x: 80 + $0, y: 45) }
    #expect(corner(alongTheTop) == (right, bottom))
    let rightEdge = (0..<410).map { (x: 775, y: 40 + $0) }
    #expect(corner(rightEdge) == (left, top))
  }

  @Test func resizeKeepsFlatColoursAndAverages() {
    let flat = RGBImage(width: 37, height: 23, pixels: [UInt8](repeating: 77, count: 37 * 23 * 3))
    #expect(flat.resized(width: 10, height: 6).pixels.allSatisfy { $0 == 77 })
    #expect(flat.resized(width: 80, height: 50).pixels.allSatisfy { $0 == 77 })
    // A 1-pixel checkerboard shrunk 4× is mid-grey everywhere (antialiased, no aliasing).
    var checker: [UInt8] = []
    for y in 0..<64 { for x in 0..<64 { let v: UInt8 = (x + y) % 2 == 0 ? 0 : 255; checker += [v, v, v] } }
    let small = RGBImage(width: 64, height: 64, pixels: checker).resized(width: 16, height: 16)
    #expect(small.pixels.allSatisfy { abs(Int($0) - 128) <= 3 })
    #expect(flat.size(longSide: 74) == (74, 46))
  }

  @Test func writeIsAtomicAndChecksTheFolder() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    try picture.write(to: dir.file("a.png"))
    try picture.write(to: dir.file("a.jpg"), quality: 80)
    #expect(try RGBImage.read(dir.file("a.png")) == picture)
    #expect(try RGBImage.read(dir.file("a.jpg")).width == 5)
    #expect(throws: (any Error).self) { try picture.write(to: dir.file("missing/a.png")) }
    #expect(throws: (any Error).self) { try picture.write(to: dir.file("a.gif")) }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["a.jpg", "a.png"])

    // Temporary files left by killed writers are removed by the next write; a live one stays.
    let dead = dir.file(".a.png.tmp-2147483000"), live = dir.file(".a.png.tmp-\(getpid() == 1 ? 2 : 1)")
    for path in [dead, live] { FileManager.default.createFile(atPath: path, contents: Data("partial".utf8)) }
    try picture.write(to: dir.file("a.png"))
    #expect(!FileManager.default.fileExists(atPath: dead))
    #expect(FileManager.default.fileExists(atPath: live))
  }

  @Test func luminanceTransferKeepsTheColours() {
    let styled = RGBImage(width: 1, height: 1, pixels: [120, 120, 120])
    let photo = RGBImage(width: 1, height: 1, pixels: [180, 100, 100])
    let out = styled.withColors(of: photo).pixels
    #expect(out[0] > out[1] && out[0] > out[2])
    let y = 0.299 * Double(out[0]) + 0.587 * Double(out[1]) + 0.114 * Double(out[2])
    #expect(abs(y - 120) < 1.5)
  }

  /// Headings of a contact sheet: the thumbnail above its column, labels above the columns
  /// and left of the rows, in ink; the grid itself moves right and down to make room.
  @Test func headedSheetDrawsThumbnailsAndLabels() {
    let red = RGBImage(width: 20, height: 10, pixels: [UInt8](repeating: 0, count: 600).enumerated().map { $0.offset % 3 == 0 ? 255 : 0 })
    let plain = headedSheet([[red, nil]], cell: 64)
    #expect(plain.width == 2 * 64 + 3 * 8 && plain.height == 64 + 2 * 8)
    let sheet = headedSheet([[red, nil]], cell: 64, columnLabels: ["photo", "model"], rowLabels: ["cat"], columnImages: [nil, red])
    #expect(sheet.width > plain.width && sheet.height > plain.height)
    func ink(_ x0: Int, _ x1: Int, _ y0: Int, _ y1: Int) -> Bool {
      for y in y0..<y1 { for x in x0..<x1 where sheet.pixels[(y * sheet.width + x) * 3 + 1] < 128 { return true } }
      return false
    }
    let left = sheet.width - plain.width  // the row labels' margin
    let head = sheet.height - plain.height
    #expect(ink(0, left, head, sheet.height))  // the row label
    #expect(!ink(left + 8, left + 8 + 64, 0, 32))  // no thumbnail above the first column
    let thumb = (sheet.height > 0 ? sheet.pixels[((8 + 16) * sheet.width + left + 8 + 64 + 8 + 32) * 3 ..< ((8 + 16) * sheet.width + left + 8 + 64 + 8 + 32) * 3 + 3] : [])
    #expect(Array(thumb) == [255, 0, 0])  // the red thumbnail above the second
    #expect(ink(left, sheet.width, 32, head))  // the column labels
  }
}
