import Foundation

/// Measures of a stylised image that need no network.
public enum ImageMetrics {
  /// Mean SSIM (Wang, Bovik, Sheikh & Simoncelli 2004) of the BT.601 luminance of two images
  /// of the same size: 11×11 Gaussian window, σ = 1.5, C₁ = (0.01·255)², C₂ = (0.03·255)²,
  /// over the positions where the window fits (the whole image if it is smaller).
  public static func ssimLuminance(_ a: RGBImage, _ b: RGBImage) -> Double {
    precondition(a.width == b.width && a.height == b.height, "SSIM needs images of the same size.")
    let (w, h) = (a.width, a.height)
    func luminance(_ im: RGBImage) -> [Double] {
      var y = [Double](repeating: 0, count: w * h)
      for i in 0..<(w * h) {
        let r = Double(im.pixels[3 * i]), g = Double(im.pixels[3 * i + 1]), b = Double(im.pixels[3 * i + 2])
        y[i] = 0.299 * r + 0.587 * g + 0.114 * b
      }
      return y
    }
    let x = luminance(a), y = luminance(b)
    let radius = min(5, (min(w, h) - 1) / 2)
    var kernel = (-radius...radius).map { exp(-Double($0 * $0) / (2 * 1.5 * 1.5)) }
    let norm = kernel.reduce(0, +)
    kernel = kernel.map { $0 / norm }
    // Separable filtering over the "valid" region.
    func blur(_ v: [Double]) -> [Double] {
      let (ow, oh) = (w - 2 * radius, h - 2 * radius)
      var rows = [Double](repeating: 0, count: ow * h)
      for r in 0..<h { for c in 0..<ow { var s = 0.0; for k in 0...(2 * radius) { s += kernel[k] * v[r * w + c + k] }; rows[r * ow + c] = s } }
      var out = [Double](repeating: 0, count: ow * oh)
      for r in 0..<oh { for c in 0..<ow { var s = 0.0; for k in 0...(2 * radius) { s += kernel[k] * rows[(r + k) * ow + c] }; out[r * ow + c] = s } }
      return out
    }
    let mx = blur(x), my = blur(y)
    let sxx = blur(zip(x, x).map(*)), syy = blur(zip(y, y).map(*)), sxy = blur(zip(x, y).map(*))
    let c1: Double = (0.01 * 255) * (0.01 * 255), c2: Double = (0.03 * 255) * (0.03 * 255)
    var total = 0.0
    for i in 0..<mx.count {
      let (ux, uy) = (mx[i], my[i])
      let vx = sxx[i] - ux * ux, vy = syy[i] - uy * uy, cov = sxy[i] - ux * uy
      total += ((2 * ux * uy + c1) * (2 * cov + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    }
    return total / Double(max(mx.count, 1))
  }

  /// Hellinger distance between the normalised RGB histograms (8 bins per channel) of two
  /// images of any sizes: 0 for the same colour distribution, 1 for disjoint ones.
  public static func colorHistogramDistance(_ a: RGBImage, _ b: RGBImage) -> Double {
    func histogram(_ im: RGBImage) -> [Double] {
      var bins = [Double](repeating: 0, count: 512)
      for i in stride(from: 0, to: im.pixels.count, by: 3) {
        bins[Int(im.pixels[i] >> 5) << 6 | Int(im.pixels[i + 1] >> 5) << 3 | Int(im.pixels[i + 2] >> 5)] += 1
      }
      let n = Double(max(im.width * im.height, 1))
      return bins.map { $0 / n }
    }
    let p = histogram(a), q = histogram(b)
    let overlap = zip(p, q).reduce(0.0) { $0 + ($1.0 * $1.1).squareRoot() }
    return max(0, 1 - overlap).squareRoot()
  }
}
