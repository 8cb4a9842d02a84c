import Foundation

/// Separable Lanczos-3 resampling. When shrinking, the kernel is stretched by the scale
/// factor so every source pixel contributes (an antialiased, area-like filter); when
/// enlarging it is plain Lanczos-3 interpolation.
enum Lanczos {
  static let a = 3.0

  static func kernel(_ x: Double) -> Double {
    if x == 0 { return 1 }
    if abs(x) >= a { return 0 }
    let px = Double.pi * x
    return a * sin(px) * sin(px / a) / (px * px)
  }

  /// For each output index: the first source index and the normalised weights.
  static func taps(from n: Int, to m: Int) -> [(Int, [Float])] {
    let scale = Double(n) / Double(m)
    let support = a * max(scale, 1)
    let stretch = max(scale, 1)
    return (0..<m).map { i in
      let centre = (Double(i) + 0.5) * scale - 0.5
      let lo = Int((centre - support).rounded(.up)), hi = Int((centre + support).rounded(.down))
      var weights: [Double] = []
      for j in lo...hi { weights.append(kernel((Double(j) - centre) / stretch)) }
      // Fold taps that fall outside the image onto the edge pixel (clamp).
      var folded = [Double](repeating: 0, count: n)
      var first = n, last = -1
      for (k, w) in weights.enumerated() {
        let j = min(max(lo + k, 0), n - 1)
        folded[j] += w
        first = min(first, j); last = max(last, j)
      }
      let total = folded[first...last].reduce(0, +)
      return (first, folded[first...last].map { Float($0 / total) })
    }
  }
}

extension RGBImage {
  /// The image resampled to exactly `width` × `height` (Lanczos-3, antialiased).
  public func resized(width newW: Int, height newH: Int) -> RGBImage {
    precondition(newW > 0 && newH > 0)
    if newW == width && newH == height { return self }
    let xt = Lanczos.taps(from: width, to: newW), yt = Lanczos.taps(from: height, to: newH)
    // Horizontal pass into floats [height][newW][3], then vertical pass to bytes.
    var mid = [Float](repeating: 0, count: height * newW * 3)
    for y in 0..<height {
      for (x, (first, w)) in xt.enumerated() {
        var (r, g, b): (Float, Float, Float) = (0, 0, 0)
        for (k, wk) in w.enumerated() {
          let s = (y * width + first + k) * 3
          r += wk * Float(pixels[s]); g += wk * Float(pixels[s + 1]); b += wk * Float(pixels[s + 2])
        }
        let d = (y * newW + x) * 3
        mid[d] = r; mid[d + 1] = g; mid[d + 2] = b
      }
    }
    var out = [UInt8](repeating: 0, count: newW * newH * 3)
    for (y, (first, w)) in yt.enumerated() {
      for x in 0..<newW {
        var (r, g, b): (Float, Float, Float) = (0, 0, 0)
        for (k, wk) in w.enumerated() {
          let s = ((first + k) * newW + x) * 3
          r += wk * mid[s]; g += wk * mid[s + 1]; b += wk * mid[s + 2]
        }
        let d = (y * newW + x) * 3
        out[d] = toByte(r); out[d + 1] = toByte(g); out[d + 2] = toByte(b)
      }
    }
    return RGBImage(width: newW, height: newH, pixels: out)
  }

  /// The size with the longer side equal to `longSide`, keeping the aspect ratio.
  public func size(longSide: Int) -> (width: Int, height: Int) {
    let scale = Double(longSide) / Double(max(width, height))
    return (max(1, Int((Double(width) * scale).rounded())), max(1, Int((Double(height) * scale).rounded())))
  }

  /// The image scaled so its longer side is `longSide` (up or down).
  public func resized(longSide: Int) -> RGBImage {
    let (w, h) = size(longSide: longSide)
    return resized(width: w, height: h)
  }

  /// A [1, 3, H, W] tensor with values in [0, 1].
  public func tensor() -> Tensor {
    let t = Tensor(shape: [1, 3, height, width])
    let plane = width * height
    for i in 0..<plane {
      for c in 0..<3 { t.data[c * plane + i] = Float(pixels[i * 3 + c]) / 255 }
    }
    return t
  }

  /// Image `index` of an [N, 3, H, W] tensor, clamped to [0, 1] and rounded to 8 bits.
  public init(tensor t: Tensor, index: Int = 0) {
    let (w, h) = (t.w, t.h)
    let plane = w * h
    var out = [UInt8](repeating: 0, count: plane * 3)
    let base = t.data + index * 3 * plane
    for i in 0..<plane {
      for c in 0..<3 { out[i * 3 + c] = toByte(base[c * plane + i] * 255) }
    }
    self.init(width: w, height: h, pixels: out)
  }
}

/// Rounds and clamps to 0…255; NaN becomes 0 (a diverged network must not crash a preview).
@inline(__always)
func toByte(_ v: Float) -> UInt8 {
  guard !v.isNaN else { return 0 }
  return UInt8(min(max(v, 0), 255).rounded())
}
