/// Reads the orientation tag (0x0112) from a JPEG's APP1 "Exif" payload: a TIFF header
/// (II or MM byte order, 42, offset of IFD0) and IFD0's 12-byte entries. Every offset is
/// bounds-checked; anything malformed means orientation 1 (as stored).
public enum EXIF {
  public static func orientation(_ app1: [UInt8]) -> Int {
    guard app1.count >= 14, app1.starts(with: Array("Exif\0\0".utf8)) else { return 1 }
    let tiff = Array(app1[6...])
    let little: Bool
    switch (tiff[0], tiff[1]) {
    case (0x49, 0x49): little = true
    case (0x4D, 0x4D): little = false
    default: return 1
    }
    func u16(_ at: Int) -> Int? {
      guard at >= 0, at + 2 <= tiff.count else { return nil }
      let (a, b) = (Int(tiff[at]), Int(tiff[at + 1]))
      return little ? a | b << 8 : a << 8 | b
    }
    func u32(_ at: Int) -> Int? {
      guard let lo = u16(little ? at : at + 2), let hi = u16(little ? at + 2 : at) else { return nil }
      return lo | hi << 16
    }
    guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return 1 }
    for i in 0..<count {
      let entry = ifd + 2 + 12 * i
      guard let tag = u16(entry) else { return 1 }
      if tag == 0x0112 {
        guard u16(entry + 2) == 3, let value = u16(entry + 8), (1...8).contains(value) else { return 1 }
        return value
      }
    }
    return 1
  }
}

extension RGBImage {
  /// The image as it should be displayed for an EXIF orientation (1…8).
  public func oriented(_ orientation: Int) -> RGBImage {
    guard (2...8).contains(orientation) else { return self }
    let swap = orientation >= 5
    let (w, h) = swap ? (height, width) : (width, height)
    var out = [UInt8](repeating: 0, count: pixels.count)
    for y in 0..<h {
      for x in 0..<w {
        let (sx, sy): (Int, Int)
        switch orientation {
        case 2: (sx, sy) = (width - 1 - x, y)              // mirrored
        case 3: (sx, sy) = (width - 1 - x, height - 1 - y) // rotated 180°
        case 4: (sx, sy) = (x, height - 1 - y)             // flipped vertically
        case 5: (sx, sy) = (y, x)                          // transposed
        case 6: (sx, sy) = (y, height - 1 - x)             // rotate 90° clockwise to show
        case 7: (sx, sy) = (width - 1 - y, height - 1 - x) // transverse
        default: (sx, sy) = (width - 1 - y, x)             // 8: rotate 90° counter-clockwise
        }
        let (d, s) = ((y * w + x) * 3, (sy * width + sx) * 3)
        out[d] = pixels[s]; out[d + 1] = pixels[s + 1]; out[d + 2] = pixels[s + 2]
      }
    }
    return RGBImage(width: w, height: h, pixels: out)
  }
}
