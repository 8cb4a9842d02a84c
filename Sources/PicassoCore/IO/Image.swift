import CJPEG
import CPNG
import Foundation

/// An 8-bit RGB image, interleaved (HWC), top row first: what files hold and what the
/// network reads after `tensor()`.
public struct RGBImage: Equatable, Sendable {
  public var width: Int
  public var height: Int
  public var pixels: [UInt8]

  public init(width: Int, height: Int, pixels: [UInt8]) {
    precondition(pixels.count == width * height * 3, "\(pixels.count) bytes for \(width)×\(height) RGB.")
    self.width = width
    self.height = height
    self.pixels = pixels
  }

  /// The largest image a reader accepts unless told otherwise (a 16k × 12k photo), so a
  /// small file declaring 100000 × 100000 pixels is refused before anything is allocated.
  public static let defaultMaxPixels = 200_000_000
  /// The limit `read` and `decode` use by default (the commands' `--max-pixels`).
  nonisolated(unsafe) public static var maxPixels = defaultMaxPixels

  /// Reads a PNG or JPEG file (recognised by its first bytes, not its name). JPEGs are
  /// turned upright by their EXIF orientation; grey, alpha, palette and 16-bit PNGs become
  /// 8-bit RGB (alpha composited over white).
  public static func read(_ path: String, maxPixels: Int = RGBImage.maxPixels) throws -> RGBImage {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw PicassoError.file(path, "no such file")
    }
    guard !isDirectory.boolValue else { throw PicassoError.file(path, "is a folder, not an image") }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw PicassoError.file(path, "cannot be read (permission denied?)")
    }
    do {
      return try decode([UInt8](data), maxPixels: maxPixels)
    } catch let error as PicassoError {
      if case .badInput(let why) = error { throw PicassoError.file(path, why) }
      throw error
    }
  }

  /// Decodes PNG or JPEG bytes. Errors are `.badInput` with the reason.
  public static func decode(_ bytes: [UInt8], maxPixels: Int = RGBImage.maxPixels) throws -> RGBImage {
    if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
      return try decodePNG(bytes, maxPixels: maxPixels)
    }
    if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
      return try decodeJPEG(bytes, maxPixels: maxPixels)
    }
    throw PicassoError.badInput(bytes.isEmpty ? "empty file, not an image" : "not a PNG or JPEG image")
  }

  static func decodePNG(_ bytes: [UInt8], maxPixels: Int) throws -> RGBImage {
    var image = CPNG_image()
    let began = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
    guard began != 0 else {
      throw PicassoError.badInput("not a readable PNG (\(String(cString: CPNG_message(&image))))")
    }
    let (w, h) = (Int(image.width), Int(image.height))
    guard w * h <= maxPixels else {
      png_image_free(&image)
      throw PicassoError.badInput("declares \(w)×\(h) pixels, more than the limit of \(maxPixels) (raise it with --max-pixels)")
    }
    image.format = CPNG_FORMAT_RGB()
    var pixels = [UInt8](repeating: 0, count: w * h * 3)
    var white = png_color(red: 255, green: 255, blue: 255)
    let ok = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, &white, $0.baseAddress, 0, nil) }
    guard ok != 0 else {
      throw PicassoError.badInput("damaged or truncated PNG (\(String(cString: CPNG_message(&image))))")
    }
    return RGBImage(width: w, height: h, pixels: pixels)
  }

  static func decodeJPEG(_ bytes: [UInt8], maxPixels: Int) throws -> RGBImage {
    var out = CJPEG_Image()
    let status = bytes.withUnsafeBufferPointer { CJPEG_decode($0.baseAddress, $0.count, Int64(maxPixels), &out) }
    defer { CJPEG_release(&out) }
    let message = withUnsafeBytes(of: out.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    guard status == 0 else {
      switch status {
      case 2: throw PicassoError.badInput(message)
      case 3: throw PicassoError.badInput(message + " (raise it with --max-pixels)")
      default: throw PicassoError.badInput("damaged or truncated JPEG (\(message))")
      }
    }
    let (w, h) = (Int(out.width), Int(out.height))
    let image = RGBImage(width: w, height: h, pixels: Array(UnsafeBufferPointer(start: out.pixels, count: w * h * 3)))
    let exif = out.exif.map { Array(UnsafeBufferPointer(start: $0, count: out.exif_length)) } ?? []
    return image.oriented(EXIF.orientation(exif))
  }

  /// Writes PNG or JPEG by the file's extension (.png, .jpg, .jpeg), atomically: to a
  /// temporary file beside it, then renamed, so a failure never leaves a partial image.
  public func write(to path: String, quality: Int = 92) throws {
    let ext = (path as NSString).pathExtension.lowercased()
    guard ["png", "jpg", "jpeg"].contains(ext) else {
      throw PicassoError.file(path, "unknown image type '.\(ext)'; use .png or .jpg")
    }
    let bytes = try ext == "png" ? encodePNG() : encodeJPEG(quality: quality)
    try writeAtomically(Data(bytes), to: path)
  }

  public func encodePNG() throws -> [UInt8] {
    var image = CPNG_image()
    image.width = UInt32(width)
    image.height = UInt32(height)
    image.format = CPNG_FORMAT_RGB()
    var size = 0
    guard pixels.withUnsafeBytes({ png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, 0, nil) }) != 0 else {
      throw PicassoError.badInput("PNG encoding failed (\(String(cString: CPNG_message(&image))))")
    }
    var out = [UInt8](repeating: 0, count: size)
    let ok = out.withUnsafeMutableBytes { dst in
      pixels.withUnsafeBytes { png_image_write_to_memory(&image, dst.baseAddress, &size, 0, $0.baseAddress, 0, nil) }
    }
    guard ok != 0 else { throw PicassoError.badInput("PNG encoding failed (\(String(cString: CPNG_message(&image))))") }
    return Array(out.prefix(size))
  }

  public func encodeJPEG(quality: Int) throws -> [UInt8] {
    var buffer: UnsafeMutablePointer<UInt8>? = nil
    var size: UInt = 0
    var message = [CChar](repeating: 0, count: 200)
    let status = pixels.withUnsafeBufferPointer {
      CJPEG_encode($0.baseAddress, Int32(width), Int32(height), 3, Int32(min(max(quality, 1), 100)), &buffer, &size, &message)
    }
    defer { CJPEG_free(buffer) }
    guard status == 0, let buffer else { throw PicassoError.badInput("JPEG encoding failed (\(String(cString: message)))") }
    return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
  }
}

/// Writes `data` to `path` through a temporary file in the same folder and a rename, so
/// readers see the old file or the new one, never half of one.
public func writeAtomically(_ data: Data, to path: String) throws {
  try replaceAtomically(path) { temporary in
    guard FileManager.default.createFile(atPath: temporary, contents: data) else {
      let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
      throw PicassoError.file(path, "cannot write in '\(dir)' (permission denied or disk full?)")
    }
  }
}

/// Runs `write` on a temporary path beside `path`, then renames it over `path`; if `write`
/// throws or the rename fails, the temporary file is removed and `path` is left as it was.
public func replaceAtomically(_ path: String, _ write: (_ temporary: String) throws -> Void) throws {
  let url = URL(fileURLWithPath: path)
  let dir = url.deletingLastPathComponent().path
  var isDirectory: ObjCBool = false
  guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
    throw PicassoError.file(path, "the folder '\(dir)' does not exist")
  }
  let prefix = "." + url.lastPathComponent + ".tmp-"
  // A process killed mid-write leaves its temporary file behind: remove those of dead processes.
  for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasPrefix(prefix) {
    if let pid = Int32(name.dropFirst(prefix.count)), kill(pid, 0) == -1, errno == ESRCH { unlink(dir + "/" + name) }
  }
  let temporary = dir + "/" + prefix + "\(getpid())"
  do {
    try write(temporary)
  } catch {
    unlink(temporary)
    throw error
  }
  guard rename(temporary, path) == 0 else {
    let reason = String(cString: strerror(errno))
    unlink(temporary)
    throw PicassoError.file(path, "cannot replace the file: \(reason)")
  }
}
