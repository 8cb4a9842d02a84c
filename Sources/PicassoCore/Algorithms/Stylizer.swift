import CKernels

/// Renders photos of any size through a trained `TransformerNet`: output exactly the input's
/// size, and large photos in tiles with bounded memory.
///
/// **Sizes.** The network halves the image twice and doubles it twice, so it needs sides that
/// are multiples of 4 (and at least 16 for its reflection padding). The photo is extended by
/// `margin` pixels on every side, mirrored (the network's own edges fall outside the photo:
/// some trained networks paint a line along the right-hand edge they see),
/// then by repeating its last row and column up to such a size, rendered, and cropped back:
/// nothing is resized.
///
/// **Tiles.** Instance norm normalises each channel by the statistics of the *whole* image, so
/// tiles rendered independently disagree in colour and contrast. Here the network is split
/// into segments at the places where a full-resolution copy is cheap to keep: the front (down
/// to ¼ resolution), each residual block, and the back (up to full resolution). Each segment
/// is run tile by tile (each tile with a halo wider than its receptive field, so its core is
/// exact) from a stored map to the next one. For each instance norm inside a segment, one pass
/// over the tiles accumulates that layer's input statistics over the whole image first; the
/// last pass uses them all. The stored ¼-resolution maps are half-precision when they are
/// large (a 6000×4000 photo: 2 × 384 MB instead of 2 × 768 MB), which changes the output
/// by a fraction of an 8-bit level.
public final class Stylizer {
  public let net: TransformerNet
  /// Images with at most this many pixels (after padding) run in one pass (about 1 GB at 1280²).
  public var maxUntiledPixels = 1280 * 1280
  /// Side, in pixels of the photo, of the square each tile renders (a multiple of 4).
  public var tileSide = 512 {
    didSet { precondition(tileSide >= 16 && tileSide % 4 == 0, "tileSide must be a multiple of 4, at least 16.") }
  }
  /// Stored maps with more elements than this are kept in half precision (nil: never).
  public var halfPrecisionAbove: Int? = 64 << 20
  /// Pixels of the photo mirrored beyond each of its edges before the network (at most the
  /// photo's side less one), cropped off after; 0 renders the photo as it is, as PyTorch's
  /// fast-neural-style does. A multiple of 4 keeps the network's 4-pixel grid where it is.
  public var margin = Stylizer.defaultMargin
  /// 16 pixels: the edge line of the models bundled before 2026-12-02 reached 2–3 pixels in
  /// (8 removed it, 4 did not), and 16 adds 13 % to the work of a 512² photo.
  public static let defaultMargin = 16

  /// Called during a tiled rendering with (tile passes done, tile passes in all).
  public var progress: ((Int, Int) -> Void)?

  /// Switches `net` to rendering: Winograd F(4×4) for its 3×3 convs (see
  /// `TransformerNet.winogradTile`) and each upsample folded into its conv
  /// (`TransformerNet.foldsUpsampling`). A network that still trains cannot go back to
  /// training from there: give a `copy()` of it.
  public init(net: TransformerNet) {
    self.net = net
    net.winogradTile = .f4
    net.foldsUpsampling = true
  }

  /// The network's output for `image`, the same size.
  public func render(_ image: RGBImage) -> RGBImage {
    let canvas = Canvas(image, margin: margin)
    return canvas.height * canvas.width <= maxUntiledPixels ? renderUntiled(image) : renderTiled(image)
  }

  /// Where the photo sits in what the network sees: `margin` mirrored pixels on each side
  /// (fewer on a side shorter than margin + 1), then sides rounded up to multiples of 4, at
  /// least 16, by repeating the last row and column.
  struct Canvas {
    let top: Int, left: Int, height: Int, width: Int
    init(_ image: RGBImage, margin: Int) {
      top = min(margin, image.height - 1)
      left = min(margin, image.width - 1)
      height = max(16, (image.height + 2 * top + 3) / 4 * 4)
      width = max(16, (image.width + 2 * left + 3) / 4 * 4)
    }
  }

  /// One forward pass over the whole (padded) photo.
  public func renderUntiled(_ image: RGBImage) -> RGBImage {
    let canvas = Canvas(image, margin: margin)
    defer { net.releaseBuffers() }
    var out = PhotoSource(image, canvas).tile(y: 0..<canvas.height, x: 0..<canvas.width)
    var previous: Segment?
    for segment in segments {
      out = segment.run(out)
      previous?.layers.last!.releaseBuffers()  // its output was this segment's input
      previous = segment
    }
    var result = RGBImage(width: image.width, height: image.height, pixels: .init(repeating: 0, count: image.width * image.height * 3))
    copyPixels(out, origin: (-canvas.top, -canvas.left), core: (0..<image.height, 0..<image.width), into: &result)
    return result
  }

  /// The network's raw output for `image` in one pass, [1, 3, H, W] at the photo's size
  /// (not clamped to [0, 1]): what the losses of `picasso compare` are computed on.
  public func outputTensor(_ image: RGBImage) -> Tensor {
    let canvas = Canvas(image, margin: margin)
    let (h, w) = (canvas.height, canvas.width)
    defer { net.releaseBuffers() }
    let out = net.forward(PhotoSource(image, canvas).tile(y: 0..<h, x: 0..<w))
    let t = Tensor(shape: [1, 3, image.height, image.width])
    for c in 0..<3 {
      for y in 0..<image.height {
        (t.data + (c * image.height + y) * image.width).update(from: out.data + (c * h + y + canvas.top) * w + canvas.left, count: image.width)
      }
    }
    return t
  }

  /// The tiled rendering described above (used by `render` for large photos; public so tests
  /// can compare it with `renderUntiled` on small ones).
  public func renderTiled(_ image: RGBImage) -> RGBImage {
    // A quarter of the pool's usual size: measured on 6000×4000, peak 1.42 GB at 256 MB and
    // 1.85 GB with a 1 GB pool.
    StoragePool.withLimit(256 << 20) { renderTiledPooled(image) }
  }

  private func renderTiledPooled(_ image: RGBImage) -> RGBImage {
    let canvas = Canvas(image, margin: margin)
    let (h, w) = (canvas.height, canvas.width)
    let norms = segments.flatMap { $0.layers.compactMap { $0 as? InstanceNorm } }
    defer {
      for n in norms { n.fixedStatistics = nil }
      net.releaseBuffers()
    }

    // Each segment's input size and tiles: cores of about tileSide photo pixels, a multiple
    // of the segment's downsampling.
    var layout: [(size: (h: Int, w: Int), tiles: [Tile])] = []
    var size = (h: h, w: w), resolution = (num: 1, den: 1)  // of the current map, relative to the photo
    for segment in segments {
      let (num, den) = segment.scale
      let core = max(den, tileSide * resolution.num / resolution.den / den * den)
      layout.append((size, Stylizer.tiles(size, core: core, halo: segment.halo)))
      size = (size.h * num / den, size.w * num / den)
      let g = gcd(resolution.num * num, resolution.den * den)
      resolution = (resolution.num * num / g, resolution.den * den / g)
    }
    // Tile passes in all, for `progress`: per segment, one per instance norm and the last.
    let totalPasses = zip(segments, layout).reduce(0) { $0 + ($1.0.layers.filter { $0 is InstanceNorm }.count + 1) * $1.1.tiles.count }
    var passesDone = 0
    func tileDone() {
      passesDone += 1
      progress?(passesDone, totalPasses)
    }
    var source: TileSource = PhotoSource(image, canvas)
    var result = RGBImage(width: image.width, height: image.height, pixels: .init(repeating: 0, count: image.width * image.height * 3))
    for (k, segment) in segments.enumerated() {
      let (num, den) = segment.scale
      let (size, tiles) = layout[k]
      let outSize = (h: size.h * num / den, w: size.w * num / den)
      for (index, layer) in segment.layers.enumerated() {
        guard let norm = layer as? InstanceNorm else { continue }
        norm.fixedStatistics = accumulateStatistics(segment, upTo: index, source: source, tiles: tiles, size: size, each: tileDone)
      }
      if k == segments.count - 1 {
        for t in tiles {
          let y = segment.run(source.tile(y: t.outer.y, x: t.outer.x))
          tileDone()
          // The core in the photo's coordinates (the canvas's less its margins), clipped to it.
          let y0 = max(0, t.core.y.lowerBound * num / den - canvas.top), y1 = min(image.height, t.core.y.upperBound * num / den - canvas.top)
          let x0 = max(0, t.core.x.lowerBound * num / den - canvas.left), x1 = min(image.width, t.core.x.upperBound * num / den - canvas.left)
          if y0 >= y1 || x0 >= x1 { continue }  // a tile of margin only
          let (coreY, coreX) = (y0..<y1, x0..<x1)
          copyPixels(y, origin: (t.outer.y.lowerBound * num / den - canvas.top, t.outer.x.lowerBound * num / den - canvas.left),
                     core: (coreY, coreX), into: &result)
        }
      } else {
        let channels = segment.outChannels
        let half = halfPrecisionAbove.map { channels * outSize.h * outSize.w > $0 } ?? false
        let map = FeatureMap(channels: channels, height: outSize.h, width: outSize.w, half: half)
        for t in tiles {
          let y = segment.run(source.tile(y: t.outer.y, x: t.outer.x))
          tileDone()
          map.store(y, origin: (t.outer.y.lowerBound * num / den, t.outer.x.lowerBound * num / den),
                    core: (t.core.y.lowerBound * num / den..<t.core.y.upperBound * num / den,
                           t.core.x.lowerBound * num / den..<t.core.x.upperBound * num / den))
        }
        source = map
      }
    }
    return result
  }

  /// Mean and 1/√(σ² + ε) per channel of the input of `segment.layers[index]` (an instance
  /// norm) over the whole image, from the tiles' cores.
  private func accumulateStatistics(
    _ segment: Segment, upTo index: Int, source: TileSource, tiles: [Tile], size: (h: Int, w: Int), each: () -> Void
  ) -> (mean: [Float], rstd: [Float]) {
    let (num, den) = segment.scale(upTo: index)
    let norm = segment.layers[index] as! InstanceNorm
    var sum = [Double](repeating: 0, count: norm.channels), sumSquares = sum
    for t in tiles {
      var x = source.tile(y: t.outer.y, x: t.outer.x)
      for (k, layer) in segment.layers[..<index].enumerated() {
        x = layer.forward(x)
        if k > 0 { segment.layers[k - 1].releaseBuffers() }
      }
      let y0 = (t.core.y.lowerBound - t.outer.y.lowerBound) * num / den
      let x0 = (t.core.x.lowerBound - t.outer.x.lowerBound) * num / den
      let ch = t.core.y.count * num / den, cw = t.core.x.count * num / den
      for c in 0..<norm.channels {
        var s = 0.0, s2 = 0.0
        for row in y0..<(y0 + ch) {
          let p = x.data + (c * x.h + row) * x.w + x0
          var rowSum = 0.0, rowSquares = 0.0
          picasso_instance_norm_stats(p, cw, &rowSum, &rowSquares, Int32(norm.vectorLevel.rawValue))
          s += rowSum
          s2 += rowSquares
        }
        sum[c] += s
        sumSquares[c] += s2
      }
      each()
    }
    let m = Double(size.h * num / den * (size.w * num / den))
    var mean = [Float](repeating: 0, count: norm.channels), rstd = mean
    for c in 0..<norm.channels {
      let mu = sum[c] / m
      let variance = max(sumSquares[c] / m - mu * mu, 0)
      mean[c] = Float(mu)
      rstd[c] = Float(1 / (variance + Double(norm.epsilon)).squareRoot())
    }
    return (mean, rstd)
  }

  // MARK: Segments and tiles

  /// A run of layers between two stored maps; `residual` adds its input to its output.
  struct Segment {
    var layers: [Layer]
    var residual: Bool
    /// Halo in input pixels of the segment, a multiple of the segment's downsampling.
    var halo: Int

    /// Output resolution over input resolution, as num/den, after `layers[..<index]`.
    func scale(upTo index: Int) -> (Int, Int) {
      var (num, den) = (1, 1)
      for layer in layers[..<index] {
        if let conv = layer as? Conv2D { den *= conv.stride } else if layer is Upsample2x { num *= 2 }
      }
      let g = gcd(num, den)
      return (num / g, den / g)
    }
    var scale: (Int, Int) { scale(upTo: layers.count) }
    var outChannels: Int { layers.compactMap { $0 as? Conv2D }.last!.outChannels }

    /// The segment's output for `x`; each layer's buffers are dropped once the next layer has
    /// used them (the last layer keeps its output, which is returned).
    func run(_ x: Tensor) -> Tensor {
      var y = x
      for (k, layer) in layers.enumerated() {
        y = layer.forward(y)
        if k > 0 { layers[k - 1].releaseBuffers() }
      }
      if residual { y.add(x) }
      return y
    }
  }

  private lazy var segments: [Segment] = {
    var result: [Segment] = []
    var plain: [Layer] = []
    func flush() {
      if plain.isEmpty { return }
      var s = Segment(layers: plain, residual: false, halo: 0)
      s.halo = Stylizer.halo(s)
      result.append(s)
      plain = []
    }
    for layer in net.network.layers {
      if let block = layer as? Residual, let body = block.body as? Sequential {
        flush()
        var s = Segment(layers: body.layers, residual: true, halo: 0)
        s.halo = Stylizer.halo(s)
        result.append(s)
      } else {
        plain.append(layer)
      }
    }
    flush()
    return result
  }()

  /// How far, in input pixels of the segment, wrong values spread inward from a tile's edge
  /// (where each conv pads by reflecting the tile instead of reading the neighbouring
  /// pixels), at worst over its layers; rounded up to a multiple of the downsampling factor.
  /// A conv (k, stride s, pad p) turns c wrong rows at the edge into ⌈(c + p)/s⌉; ×2
  /// upsampling into 2c.
  static func halo(_ s: Segment) -> Int {
    var wrong = 0, pixel = 1.0, worst = 0.0  // pixel: one current pixel, in input pixels
    for layer in s.layers {
      if let conv = layer as? Conv2D {
        wrong = (wrong + conv.pad + conv.stride - 1) / conv.stride
        pixel *= Double(conv.stride)
      } else if layer is Upsample2x {
        wrong *= 2
        pixel /= 2
      }
      worst = max(worst, Double(wrong) * pixel)
    }
    let den = s.scale.1
    return (Int(worst.rounded(.up)) + den - 1) / den * den
  }

  struct Tile {
    var core: (y: Range<Int>, x: Range<Int>)
    var outer: (y: Range<Int>, x: Range<Int>)
  }

  /// Cores of side `core` covering the image; outer = core + halo, clipped to the image.
  static func tiles(_ size: (h: Int, w: Int), core: Int, halo: Int) -> [Tile] {
    var result: [Tile] = []
    for y in stride(from: 0, to: size.h, by: core) {
      for x in stride(from: 0, to: size.w, by: core) {
        let cy = y..<min(size.h, y + core), cx = x..<min(size.w, x + core)
        result.append(Tile(core: (cy, cx), outer: (max(0, y - halo)..<min(size.h, cy.upperBound + halo),
                                                    max(0, x - halo)..<min(size.w, cx.upperBound + halo))))
      }
    }
    return result
  }
}

private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

/// Writes the core (in output-image coordinates) of an [1, 3, H, W] tile whose top-left
/// corner sits at `origin` into `image`, as 8-bit pixels.
private func copyPixels(_ t: Tensor, origin: (Int, Int), core: (Range<Int>, Range<Int>), into image: inout RGBImage) {
  let plane = t.h * t.w
  let width = image.width
  image.pixels.withUnsafeMutableBufferPointer { out in
    for y in core.0 {
      let row = t.data + (y - origin.0) * t.w - origin.1
      for x in core.1 {
        let o = (y * width + x) * 3
        out[o] = toByte(row[x] * 255)
        out[o + 1] = toByte(row[plane + x] * 255)
        out[o + 2] = toByte(row[2 * plane + x] * 255)
      }
    }
  }
}

/// Where a segment's tiles come from.
protocol TileSource {
  func tile(y: Range<Int>, x: Range<Int>) -> Tensor
}

/// The photo in [0, 1] on its canvas (in canvas coordinates): mirrored into the margins, the
/// last mirrored row and column repeated beyond.
struct PhotoSource: TileSource {
  let image: RGBImage
  let canvas: Stylizer.Canvas
  init(_ image: RGBImage, _ canvas: Stylizer.Canvas) { (self.image, self.canvas) = (image, canvas) }

  /// The photo's row or column for canvas coordinate `c`: reflected about the first and the
  /// last (without repeating them) within the margin, held beyond it.
  static func source(_ c: Int, margin: Int, side: Int) -> Int {
    let p = c - margin
    if p < 0 { return -p }
    return p < side ? p : 2 * (side - 1) - min(p, side - 1 + margin)
  }

  func tile(y: Range<Int>, x: Range<Int>) -> Tensor {
    let t = Tensor(shape: [1, 3, y.count, x.count])
    let plane = y.count * x.count
    let columns = x.map { Self.source($0, margin: canvas.left, side: image.width) }
    image.pixels.withUnsafeBufferPointer { px in
      for (i, yy) in y.enumerated() {
        let row = Self.source(yy, margin: canvas.top, side: image.height) * image.width
        for (j, column) in columns.enumerated() {
          let p = (row + column) * 3
          let o = i * x.count + j
          t.data[o] = Float(px[p]) / 255
          t.data[plane + o] = Float(px[p + 1]) / 255
          t.data[2 * plane + o] = Float(px[p + 2]) / 255
        }
      }
    }
    return t
  }
}

/// A stored [C, H, W] map, in single or half precision.
final class FeatureMap: TileSource {
  let channels: Int, height: Int, width: Int
  private var single: [Float] = []
  private var half: [Float16] = []

  init(channels: Int, height: Int, width: Int, half: Bool) {
    (self.channels, self.height, self.width) = (channels, height, width)
    if half { self.half = .init(repeating: 0, count: channels * height * width) }
    else { single = .init(repeating: 0, count: channels * height * width) }
  }

  /// Stores the core (in map coordinates) of a [1, C, h, w] tile whose corner is at `origin`.
  func store(_ t: Tensor, origin: (Int, Int), core: (Range<Int>, Range<Int>)) {
    for c in 0..<channels {
      for y in core.0 {
        let src = t.data + (c * t.h + y - origin.0) * t.w - origin.1
        let base = (c * height + y) * width
        if half.isEmpty {
          for x in core.1 { single[base + x] = src[x] }
        } else {
          for x in core.1 { half[base + x] = Float16(src[x]) }
        }
      }
    }
  }

  func tile(y: Range<Int>, x: Range<Int>) -> Tensor {
    let t = Tensor(shape: [1, channels, y.count, x.count])
    for c in 0..<channels {
      for (i, yy) in y.enumerated() {
        let dst = t.data + (c * y.count + i) * x.count
        let base = (c * height + yy) * width + x.lowerBound
        if half.isEmpty {
          for j in 0..<x.count { dst[j] = single[base + j] }
        } else {
          for j in 0..<x.count { dst[j] = Float(half[base + j]) }
        }
      }
    }
    return t
  }
}
