import CKernels

/// Instance normalisation (Ulyanov, Vedaldi & Lempitsky 2016), affine, per image and channel:
///   y = γ·(x − μ)/√(σ² + ε) + β, μ and σ² (biased) over H·W.
/// Shapes: x, y [N, C, H, W]; γ, β [C]. With `relu`, y = max(0, ·) of that, in the same pass
/// (the transformation network's IN + ReLU: one pass and one buffer fewer).
/// Backward, with x̂ = (x − μ)·rstd and g = dy·γ over the M = H·W values of one plane (dy
/// zeroed where a fused ReLU's output is not positive):
///   dx = rstd/M · (M·g − Σg − x̂·Σ(g·x̂)),  dγ += Σ dy·x̂,  dβ += Σ dy.
/// The loops over a plane are CKernels' (`picasso_instance_norm_*`), at `vectorLevel`.
public final class InstanceNorm: Layer {
  public let channels: Int
  public let epsilon: Float
  public let relu: Bool
  /// The most of the vector levels its loops may use (tests run each against plain C).
  public var vectorLevel = VectorLevel.best
  public let gamma: Tensor, beta: Tensor
  public let gammaGrad: Tensor, betaGrad: Tensor
  private var output: Tensor?, gradInput: Tensor?
  /// The last forward pass's statistics, per image and channel (index n·C + c): what a caller
  /// can hand back as `fixedStatistics` (for one image) to normalise another canvas alike.
  private(set) var mean: [Float] = [], rstd: [Float] = []
  /// When set, forward normalises every image with these per-channel statistics instead of
  /// its own: the whole image's, accumulated tile by tile when a large photo is rendered in
  /// tiles (see `Stylizer`). Forward only.
  public var fixedStatistics: (mean: [Float], rstd: [Float])?

  public init(_ channels: Int, epsilon: Float = 1e-5, relu: Bool = false) {
    self.channels = channels
    self.epsilon = epsilon
    self.relu = relu
    gamma = Tensor(shape: [channels])
    gamma.fill(1)
    beta = Tensor(shape: [channels])
    gammaGrad = Tensor(shape: [channels])
    betaGrad = Tensor(shape: [channels])
  }

  public var parameters: [Tensor] { [gamma, beta] }
  public var gradients: [Tensor] { [gammaGrad, betaGrad] }

  public func releaseBuffers() {
    output = nil
    gradInput = nil
  }

  public func forward(_ x: Tensor) -> Tensor {
    precondition(x.c == channels, "InstanceNorm(\(channels)) given \(x.shape).")
    let y = Tensor.reuse(output, shape: x.shape)
    output = y
    let planes = x.n * x.c, m = x.h * x.w
    if mean.count != planes { mean = .init(repeating: 0, count: planes); rstd = mean }
    let level = Int32(vectorLevel.rawValue)
    mean.withUnsafeMutableBufferPointer { meanP in rstd.withUnsafeMutableBufferPointer { rstdP in
      parallelFor(planes) { range in
        for p in range {
          let src = x.data + p * m
          let c = p % channels
          let mu: Float, r: Float
          if let fixed = fixedStatistics {
            (mu, r) = (fixed.mean[c], fixed.rstd[c])
          } else {
            var s = 0.0, s2 = 0.0
            picasso_instance_norm_stats(src, m, &s, &s2, level)
            let mean = s / Double(m)
            let variance = max(s2 / Double(m) - mean * mean, 0)
            (mu, r) = (Float(mean), Float(1 / (variance + Double(epsilon)).squareRoot()))
          }
          meanP[p] = mu
          rstdP[p] = r
          let scale = gamma.data[c] * r, shift = beta.data[c] - mu * scale
          picasso_instance_norm_apply(src, y.data + p * m, m, scale, shift, relu ? 1 : 0, level)
        }
      }
    } }
    return y
  }

  public func backward(_ x: Tensor, _ dy: Tensor) -> Tensor {
    let dx = Tensor.reuse(gradInput, shape: x.shape)
    gradInput = dx
    let planes = x.n * x.c, m = x.h * x.w
    // Per-plane sums first (in parallel), then the parameter gradients (serially, per channel).
    var sumDy = [Double](repeating: 0, count: planes), sumDyXhat = sumDy
    let level = Int32(vectorLevel.rawValue)
    let mask: UnsafePointer<Float>? = relu ? UnsafePointer(output!.data) : nil
    sumDy.withUnsafeMutableBufferPointer { sd in sumDyXhat.withUnsafeMutableBufferPointer { sdx in
      parallelFor(planes) { range in
        for p in range {
          picasso_instance_norm_backward(x.data + p * m, dy.data + p * m, mask.map { $0 + p * m }, dx.data + p * m, m,
                                         mean[p], rstd[p], gamma.data[p % channels], &sd[p], &sdx[p], level)
        }
      }
    } }
    for p in 0..<planes {
      gammaGrad.data[p % channels] += Float(sumDyXhat[p])
      betaGrad.data[p % channels] += Float(sumDy[p])
    }
    return dx
  }
}
