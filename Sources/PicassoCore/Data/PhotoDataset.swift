import Foundation

/// Training sets of photos in HDF5, as fast-neural-style's make_style_dataset.py writes them:
/// `train/images` and `val/images`, uint8 [N, 3, S, S], with attributes `size`, `sources`,
/// `format`. Built in chunks so memory does not grow with the number of photos; read a few
/// items at a time.
public enum PhotoDataset {
  public static let formatVersion = 1.0
  static let extensions: Set<String> = ["jpg", "jpeg", "png"]

  /// Every JPEG and PNG under the folders (recursively, by extension), sorted.
  public static func findPhotos(in folders: [String]) throws -> [String] {
    var found: [String] = []
    for folder in folders {
      var isDir: ObjCBool = false
      guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
        throw PicassoError.file(folder, "no such folder")
      }
      guard let walker = FileManager.default.enumerator(atPath: folder) else {
        throw PicassoError.file(folder, "cannot be read")
      }
      for case let relative as String in walker where extensions.contains((relative as NSString).pathExtension.lowercased()) {
        found.append((folder as NSString).appendingPathComponent(relative))
      }
    }
    return found.sorted()
  }

  /// The photo scaled so its shorter side is `size`, then centre-cropped to size × size.
  public static func centreCrop(_ image: RGBImage, size: Int, keepScale: Bool = false) -> RGBImage {
    crops(image, size: size, count: 1, rng: nil, keepScale: keepScale)[0]
  }

  /// `count` crops of size × size: the first centred, the others at random positions of the
  /// photo scaled so its shorter side is between `size` and 2·size (as large as the photo allows).
  /// With `keepScale`, every crop is taken from the photo as it is (enlarged only if its
  /// shorter side is under `size`).
  public static func crops(_ image: RGBImage, size: Int, count: Int, rng: UnsafeMutablePointer<SplitMix64>?,
                           keepScale: Bool = false) -> [RGBImage] {
    let short = min(image.width, image.height)
    let target = keepScale ? max(short, size) : count > 1 ? min(max(short, size), 2 * size) : size
    let scale = Double(target) / Double(short)
    let w = max(size, Int((Double(image.width) * scale).rounded()))
    let h = max(size, Int((Double(image.height) * scale).rounded()))
    let scaled = image.resized(width: w, height: h)
    var result: [RGBImage] = []
    for k in 0..<count {
      var (x0, y0) = ((w - size) / 2, (h - size) / 2)
      if k > 0, let rng {
        x0 = Int(rng.pointee.next() % UInt64(w - size + 1))
        y0 = Int(rng.pointee.next() % UInt64(h - size + 1))
      }
      var pixels = [UInt8](repeating: 0, count: size * size * 3)
      for y in 0..<size {
        let src = ((y0 + y) * w + x0) * 3
        pixels.replaceSubrange((y * size * 3)..<((y + 1) * size * 3), with: scaled.pixels[src..<(src + size * 3)])
      }
      result.append(RGBImage(width: size, height: size, pixels: pixels))
    }
    return result
  }

  public struct Summary: Sendable {
    public var train = 0
    public var val = 0
    public var skipped: [(path: String, reason: String)] = []
    public var bytes = 0
  }

  /// Builds the dataset file: photos shuffled by `seed`, the first `valCount` readable ones
  /// to val (centre crops), the rest to train (`cropsPerImage` crops each). With `photoSide`,
  /// each photo is first scaled so its longer side is `photoSide` and cropped at that scale
  /// (the scale photos are rendered at), else as `crops` says. Unreadable files are skipped
  /// and listed. Written to a temporary file and renamed at the end.
  public static func build(
    photos: [String], sources: [String], output: String, size: Int, valCount: Int, cropsPerImage: Int = 1,
    photoSide: Int? = nil, seed: UInt64, progress: (Int) -> Void = { _ in }
  ) throws -> Summary {
    var rng = SplitMix64(seed: seed)
    var order = photos
    order.shuffle(using: &rng)
    var summary = Summary()
    try replaceAtomically(output) { temporary in
      let file = try HDF5File(temporary, mode: .create)
      let item = [3, size, size]
      try file.createGrowingBytes("train/images", itemShape: item, chunkItems: 16)
      try file.createGrowingBytes("val/images", itemShape: item, chunkItems: 16)
      var pending: [String: [UInt8]] = ["train/images": [], "val/images": []]
      let itemBytes = 3 * size * size
      func flush(_ name: String) throws {
        guard let bytes = pending[name], !bytes.isEmpty else { return }
        try bytes.withUnsafeBytes { try file.append(name, bytes: $0.baseAddress!, count: bytes.count / itemBytes) }
        pending[name] = []
      }
      for (i, path) in order.enumerated() {
        defer { progress(i + 1) }
        var image: RGBImage
        do {
          image = try RGBImage.read(path)
          if let photoSide { image = image.resized(longSide: photoSide) }
        } catch {
          summary.skipped.append((path, "\(error)"))
          continue
        }
        let toVal = summary.val < valCount
        let name = toVal ? "val/images" : "train/images"
        let atScale = photoSide != nil
        let pieces = toVal ? [centreCrop(image, size: size, keepScale: atScale)]
          : crops(image, size: size, count: cropsPerImage, rng: &rng, keepScale: atScale)
        for piece in pieces {
          pending[name]!.append(contentsOf: planar(piece))
          if toVal { summary.val += 1 } else { summary.train += 1 }
        }
        if pending[name]!.count >= 64 * itemBytes { try flush(name) }
      }
      try flush("train/images")
      try flush("val/images")
      guard summary.train > 0 else { throw PicassoError.badInput("no training photos left after \(summary.val) for validation") }
      try file.setAttribute("size", .numbers([Double(size)]))
      try file.setAttribute("format", .numbers([formatVersion]))
      try file.setAttribute("sources", .strings(sources))
      try file.setAttribute("seed", .numbers([Double(seed)]))
      if let photoSide { try file.setAttribute("photo_size", .numbers([Double(photoSide)])) }
      file.flush()
    }
    summary.bytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
    return summary
  }

  /// HWC RGB bytes → CHW.
  static func planar(_ image: RGBImage) -> [UInt8] {
    let plane = image.width * image.height
    var out = [UInt8](repeating: 0, count: plane * 3)
    for i in 0..<plane { for c in 0..<3 { out[c * plane + i] = image.pixels[i * 3 + c] } }
    return out
  }
}

/// Reads batches from a dataset file without loading it whole.
public final class DatasetReader {
  public enum Split: String, Sendable { case train, val }
  public let path: String
  public let size: Int
  public let counts: [Split: Int]
  private let file: HDF5File
  private var scratch: [UInt8] = []

  public init(_ path: String) throws {
    guard FileManager.default.fileExists(atPath: path) else { throw PicassoError.file(path, "no such dataset file (make one with picasso dataset)") }
    self.path = path
    file = try HDF5File(path, requireChecksums: true)
    var counts: [Split: Int] = [:]
    var size = 0
    for split in [Split.train, .val] {
      let name = "\(split.rawValue)/images"
      guard file.exists(name) else {
        throw PicassoError.file(path, "not a picasso dataset: no '\(name)' (make one with picasso dataset)")
      }
      let shape = try file.shape(of: name)
      // S is bounded like `picasso dataset --size`: training allocates activations by it.
      guard shape.count == 4, shape[1] == 3, shape[2] == shape[3], (1...2048).contains(shape[2]), size == 0 || shape[2] == size else {
        throw PicassoError.file(path, "'\(name)' has shape \(shape), expected [N, 3, S, S] with S ≤ 2048")
      }
      size = shape[2]
      counts[split] = shape[0]
    }
    guard counts[.train]! > 0 else { throw PicassoError.file(path, "the dataset has no training images") }
    self.size = size
    self.counts = counts
  }

  /// A square part of a stored image: `side` pixels from column `x`, row `y`.
  public struct Window: Equatable, Sendable {
    public var x: Int, y: Int, side: Int
    public init(x: Int, y: Int, side: Int) { (self.x, self.y, self.side) = (x, y, side) }
  }

  /// Images `indices` of a split as floats in [0,1] into `batch` [n, 3, C, C]; with
  /// `flips[i]`, image i is mirrored left-right. With C equal to the stored size S each image
  /// is copied as it is; with C < S, `windows[i]` (default: the whole image) is scaled to
  /// C × C by bilinear interpolation between pixel centres (a window of side C is copied).
  public func read(_ split: Split, indices: [Int], flips: [Bool]? = nil, windows: [Window]? = nil, into batch: Tensor) throws {
    let item = 3 * size * size
    let side = batch.shape.count == 4 ? batch.shape[2] : 0
    precondition(batch.shape == [indices.count, 3, side, side] && (1...size).contains(side), "batch \(batch.shape) for \(indices.count) images of at most \(size)")
    precondition(side < size || windows == nil, "windows need a batch smaller than the stored images")
    if scratch.count != item { scratch = [UInt8](repeating: 0, count: item) }
    for (b, index) in indices.enumerated() {
      try scratch.withUnsafeMutableBytes { try file.readBytes("\(split.rawValue)/images", first: index, count: 1, into: $0.baseAddress!) }
      let dst = batch.data + b * 3 * side * side
      let flip = flips?[b] ?? false
      if side == size {
        scratch.withUnsafeBufferPointer { src in
          for row in 0..<(3 * size) {
            let s = row * size
            for x in 0..<size { dst[s + x] = Float(src[s + (flip ? size - 1 - x : x)]) / 255 }
          }
        }
        continue
      }
      let w = windows?[b] ?? Window(x: 0, y: 0, side: size)
      precondition(w.side >= side && w.x >= 0 && w.y >= 0 && w.x + w.side <= size && w.y + w.side <= size, "window \(w) in \(size) px")
      // Source coordinate of output pixel i: the window's origin plus (i + ½)·f − ½, f = window/C,
      // clamped to the window; the two source pixels around it and the weight of the second.
      let f = Float(w.side) / Float(side)
      func taps(_ origin: Int) -> [(Int, Int, Float)] {
        (0..<side).map { i in
          let t = min(max((Float(i) + 0.5) * f - 0.5, 0), Float(w.side - 1))
          let i0 = Int(t)
          return (origin + i0, origin + min(i0 + 1, w.side - 1), t - Float(i0))
        }
      }
      var columns = taps(w.x)
      if flip { columns.reverse() }
      let rows = taps(w.y)
      scratch.withUnsafeBufferPointer { src in
        for c in 0..<3 {
          let plane = src.baseAddress! + c * size * size
          for (oy, (y0, y1, ty)) in rows.enumerated() {
            let (r0, r1) = (plane + y0 * size, plane + y1 * size)
            let out = dst + (c * side + oy) * side
            for (ox, (x0, x1, tx)) in columns.enumerated() {
              let top = Float(r0[x0]) + tx * (Float(r0[x1]) - Float(r0[x0]))
              let bottom = Float(r1[x0]) + tx * (Float(r1[x1]) - Float(r1[x0]))
              out[ox] = (top + ty * (bottom - top)) / 255
            }
          }
        }
      }
    }
  }
}
