import Foundation

/// A line plot rendered to an image: x linear, y linear or logarithmic, with axes, tick
/// labels, a title and a legend, for loss curves.
public struct LinePlot {
  public struct Series {
    public var name: String
    public var color: [UInt8]
    public var points: [(x: Double, y: Double)]
    public var dashed = false
    public init(name: String, color: [UInt8], points: [(x: Double, y: Double)], dashed: Bool = false) {
      self.name = name
      self.color = color
      self.points = points
      self.dashed = dashed
    }
  }

  public var title: String
  public var xLabel: String
  public var logY: Bool
  public var series: [Series]
  /// With a linear y axis, the axis reaches down to at least this value (0 for counts).
  public var yFloor: Double?
  /// The x axis starts at or before this value (0 for training minutes).
  public var xFloor: Double?

  public init(title: String, xLabel: String, logY: Bool = true, series: [Series], yFloor: Double? = nil, xFloor: Double? = nil) {
    self.title = title
    self.xLabel = xLabel
    self.logY = logY
    self.series = series
    self.yFloor = yFloor
    self.xFloor = xFloor
  }

  public static let palette: [[UInt8]] = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189]]

  /// Renders the plot at `width` × `height` pixels.
  public func render(width: Int = 800, height: Int = 500) -> RGBImage {
    var image = RGBImage(width: width, height: height, pixels: [UInt8](repeating: 255, count: width * height * 3))
    let (left, right, top, bottom) = (80, 20, 40, 50)
    let (pw, ph) = (width - left - right, height - top - bottom)
    let points = series.flatMap(\.points).filter { $0.y.isFinite && (!logY || $0.y > 0) }
    image.draw(title, x: left, y: 12, scale: 2)
    guard !points.isEmpty else { return image }
    let ty: (Double) -> Double = logY ? { log10($0) } : { $0 }
    var (x0, x1) = (points.map(\.x).min()!, points.map(\.x).max()!)
    var (y0, y1) = (points.map { ty($0.y) }.min()!, points.map { ty($0.y) }.max()!)
    if let xFloor { x0 = min(x0, xFloor) }
    if x1 == x0 { x1 = x0 + 1 }
    if !logY, let yFloor { y0 = min(y0, yFloor) }
    if logY { (y0, y1) = (floor(y0), max(ceil(y1), floor(y0) + 1)) } else if y1 == y0 { y1 = y0 + 1 }
    func px(_ x: Double) -> Int { left + Int((x - x0) / (x1 - x0) * Double(pw - 1)) }
    func py(_ y: Double) -> Int { top + ph - 1 - Int((ty(y) - y0) / (y1 - y0) * Double(ph - 1)) }

    // Grid and tick labels.
    let grey: [UInt8] = [225, 225, 225]
    if logY {
      for d in Int(y0)...Int(y1) {
        let y = top + ph - 1 - Int((Double(d) - y0) / (y1 - y0) * Double(ph - 1))
        image.fill(x: left, y: y, width: pw, height: 1, color: grey)
        let label = "1E\(d)"
        image.draw(label, x: left - 8 - BitmapFont.measure(label), y: y - 3)
      }
    } else {
      let ticks = Self.ticks(y0, y1)
      for v in ticks.values {
        let y = top + ph - 1 - Int((v - y0) / (y1 - y0) * Double(ph - 1))
        image.fill(x: left, y: y, width: pw, height: 1, color: grey)
        let label = Self.label(v, step: ticks.step)
        image.draw(label, x: left - 8 - BitmapFont.measure(label), y: y - 3)
      }
    }
    // x counts iterations: over a short range, fewer ticks rather than fractional ones.
    let xTicks = Self.ticks(x0, x1, count: min(5, max(1, x1 - x0)))
    for v in xTicks.values {
      let x = px(v)
      image.fill(x: x, y: top, width: 1, height: ph, color: grey)
      let label = Self.label(v, step: xTicks.step)
      image.draw(label, x: x - BitmapFont.measure(label) / 2, y: top + ph + 8)
    }
    image.draw(xLabel, x: left + pw / 2 - BitmapFont.measure(xLabel) / 2, y: top + ph + 26)
    image.fill(x: left, y: top + ph, width: pw, height: 1, color: [0, 0, 0])
    image.fill(x: left, y: top, width: 1, height: ph, color: [0, 0, 0])

    // Lines (2 px), then the legend in the corner they cross least.
    var drawn: [(x: Int, y: Int)] = []
    for s in series {
      let pts = s.points.filter { $0.y.isFinite && (!logY || $0.y > 0) }
      for (i, p) in pts.enumerated() {
        if pts.count == 1 {
          image.fill(x: px(p.x) - 2, y: py(p.y) - 2, width: 5, height: 5, color: s.color)
          drawn.append((px(p.x), py(p.y)))
        }
        guard i > 0 else { continue }
        let (ax, ay, bx, by) = (px(pts[i - 1].x), py(pts[i - 1].y), px(p.x), py(p.y))
        let steps = max(abs(bx - ax), abs(by - ay), 1)
        for t in 0...steps {
          if s.dashed && (t / 6) % 2 == 1 { continue }
          let x = ax + (bx - ax) * t / steps, y = ay + (by - ay) * t / steps
          image.fill(x: x, y: y, width: 2, height: 2, color: s.color)
          drawn.append((x, y))
        }
      }
    }
    let box = Self.legendBox(width: 22 + (series.map { BitmapFont.measure($0.name) }.max() ?? 0), height: 14 * series.count,
                             plot: (left, top, pw, ph), avoiding: drawn)
    for (k, s) in series.enumerated() {
      let y = box.y + 14 * k
      for x in stride(from: 0, to: 16, by: s.dashed ? 9 : 16) {
        image.fill(x: box.x + x, y: y + 2, width: s.dashed ? 6 : 16, height: 3, color: s.color)
      }
      image.draw(s.name, x: box.x + 22, y: y)
    }
    return image
  }

  /// Where a legend of `width` × `height` goes inside the plot area: the corner (top right
  /// first, then bottom right, top left, bottom left) whose box, with a margin, holds the
  /// fewest of the `avoiding` pixels.
  public static func legendBox(width: Int, height: Int, plot: (left: Int, top: Int, width: Int, height: Int),
                        avoiding points: [(x: Int, y: Int)]) -> (x: Int, y: Int) {
    let margin = 8
    let (xl, xr) = (plot.left + margin + 4, plot.left + plot.width - margin - width)
    let (yt, yb) = (plot.top + margin, plot.top + plot.height - margin - height)
    let corners = [(xr, yt), (xr, yb), (xl, yt), (xl, yb)]
    func crossings(_ c: (Int, Int)) -> Int {
      points.count { $0.x >= c.0 - margin && $0.x < c.0 + width + margin && $0.y >= c.1 - margin && $0.y < c.1 + height + margin }
    }
    let best = corners.min { crossings($0) < crossings($1) }!
    return (best.0, best.1)
  }

  /// Round tick positions inside [lo, hi]: the multiples of a step of 1, 2, 2.5 or 5 × 10ᵏ,
  /// the step chosen so that about `count` intervals span the range.
  public static func ticks(_ lo: Double, _ hi: Double, count: Double = 5) -> (values: [Double], step: Double) {
    precondition(hi > lo && lo.isFinite && hi.isFinite)
    let magnitude = pow(10, floor(log10((hi - lo) / count)))
    let step = [1, 2, 2.5, 5, 10].map { $0 * magnitude }.min { abs((hi - lo) / $0 - count) < abs((hi - lo) / $1 - count) }!
    let slack = step * 1e-9
    var values: [Double] = []
    var k = ceil((lo - slack) / step)
    while k * step <= hi + slack {
      values.append(k * step == 0 ? 0 : k * step)
      k += 1
    }
    return (values, step)
  }

  /// A tick label with as many decimals as the step needs ("250", "0.5", "1.25").
  public static func label(_ v: Double, step: Double) -> String {
    var (decimals, scaled) = (0, step)
    while decimals < 6 && abs(scaled - scaled.rounded()) > 1e-6 * scaled {
      (decimals, scaled) = (decimals + 1, scaled * 10)
    }
    return String(format: "%.\(decimals)f", v)
  }
}
