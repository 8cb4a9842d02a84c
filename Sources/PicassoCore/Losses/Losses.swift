/// The loss terms, defined once for `optimize`, `train` and `compare` (DESIGN.md):
/// - content = mean over all elements of (F − P)²
/// - style   = Σ over layers of mean over N·C·C of (Gram(F) − Gram(S))²
/// - TV      = Σ (x[i+1, j] − x[i, j])² + Σ (x[i, j+1] − x[i, j])², a plain sum over the
///             RGB [0,1] image
/// Each function returns the loss and, when given a gradient buffer, *writes* dLoss/dInput
/// *adds* dLoss/dInput (× `weight`) into it, as layers accumulate their gradients.

/// mean((a − b)²); grad = weight · 2(a − b)/n.
public func meanSquaredError(_ a: Tensor, _ b: Tensor, gradient: Tensor? = nil, weight: Float = 1) -> Double {
  precondition(a.count == b.count, "MSE of \(a.shape) and \(b.shape).")
  var s = 0.0
  let scale = weight * 2 / Float(a.count)
  for i in 0..<a.count {
    let d = a.data[i] - b.data[i]
    s += Double(d * d)
    gradient?.data[i] += scale * d
  }
  return s / Double(a.count)
}

/// Total variation of images [N, C, H, W] (plain sum of squared neighbour differences).
public func totalVariation(_ x: Tensor, gradient: Tensor? = nil, weight: Float = 1) -> Double {
  let (h, w) = (x.h, x.w)
  var s = 0.0
  for p in 0..<(x.n * x.c) {
    let img = x.data + p * h * w
    let g = gradient.map { $0.data + p * h * w }
    for i in 0..<h {
      for j in 0..<w {
        let v = img[i * w + j]
        if i + 1 < h {
          let d = img[(i + 1) * w + j] - v
          s += Double(d * d)
          if let g { g[(i + 1) * w + j] += 2 * weight * d; g[i * w + j] -= 2 * weight * d }
        }
        if j + 1 < w {
          let d = img[i * w + j + 1] - v
          s += Double(d * d)
          if let g { g[i * w + j + 1] += 2 * weight * d; g[i * w + j] -= 2 * weight * d }
        }
      }
    }
  }
  return s
}

/// Style loss at one layer: mean over N·C·C of (Gram(F) − target)², the target [C, C]
/// shared by every image of the batch. Adds dLoss/dF (× weight) into `gradient`.
public final class StyleLoss {
  public let gram = Gram()
  private var dG: Tensor?
  public init() {}

  public func callAsFunction(_ f: Tensor, target: Tensor, gradient: Tensor? = nil, weight: Float = 1) -> Double {
    let g = gram.forward(f)
    let cc = f.c * f.c
    precondition(target.count == cc, "Gram target \(target.shape) for features \(f.shape).")
    let d = Tensor.reuse(dG, shape: g.shape)
    dG = d
    var s = 0.0
    let scale = weight * 2 / Float(g.count)
    for i in 0..<f.n {
      for k in 0..<cc {
        let diff = g.data[i * cc + k] - target.data[k]
        s += Double(diff * diff)
        d.data[i * cc + k] = scale * diff
      }
    }
    if let gradient { gradient.add(gram.backward(f, d)) }
    return s / Double(g.count)
  }
}

/// The network's 4-pixel grid (docs/training.md, "The border line and the hatching"): for
/// each image and channel, the high-pass h = x − (the mean of its four neighbours) at the
/// interior pixels, averaged separately over the 16 positions (i mod 4, j mod 4); the loss is
/// the sum over images, channels and positions of (that mean − the mean of the 16)². Texture
/// that repeats every 4 pixels (what the two ×2 upsamplings let a network paint cheaply)
/// moves those means apart; texture that does not averages out, and smooth shading has no
/// high-pass. Images under 6 pixels a side (some position without an interior pixel) add 0.
public func gridLoss(_ x: Tensor, gradient: Tensor? = nil, weight: Float = 1) -> Double {
  let (h, w) = (x.h, x.w)
  guard h >= 6, w >= 6 else { return 0 }
  var total = 0.0
  for p in 0..<(x.n * x.c) {
    let img = x.data + p * h * w
    var sums = [Double](repeating: 0, count: 16)
    var counts = [Int](repeating: 0, count: 16)
    for i in 1..<(h - 1) {
      for j in 1..<(w - 1) {
        let k = i * w + j
        let v = img[k] - (img[k - w] + img[k + w] + img[k - 1] + img[k + 1]) / 4
        sums[(i & 3) * 4 + (j & 3)] += Double(v)
        counts[(i & 3) * 4 + (j & 3)] += 1
      }
    }
    let means = (0..<16).map { sums[$0] / Double(counts[$0]) }
    let mean = means.reduce(0, +) / 16
    total += means.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
    guard let gradient else { continue }
    // dLoss/dmean_k = 2(mean_k − mean) (the 16 deviations sum to 0); each of position k's
    // pixels carries 1/count_k of it into h, and h into x through the high-pass.
    let dh = (0..<16).map { weight * Float(2 * (means[$0] - mean) / Double(counts[$0])) }
    let g = gradient.data + p * h * w
    for i in 1..<(h - 1) {
      for j in 1..<(w - 1) {
        let k = i * w + j
        let d = dh[(i & 3) * 4 + (j & 3)]
        g[k] += d
        g[k - w] -= d / 4
        g[k + w] -= d / 4
        g[k - 1] -= d / 4
        g[k + 1] -= d / 4
      }
    }
  }
  return total
}
