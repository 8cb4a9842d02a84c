/// 2×2 pooling with stride 2 (max or average), as in VGG. An odd last row or column is
/// dropped (floor), as PyTorch and Keras "valid" pooling do.
///
/// Shapes: input [N, C, H, W] → output [N, C, H/2, W/2].
/// - max: y = max of the window; backward routes dy to the first maximal element.
/// - avg: y = mean of the window; backward spreads dy/4 over the window.
public final class Pool2D: Layer {
  public enum Kind: String, Sendable { case max, avg }
  public let kind: Kind
  private var output: Tensor?
  private var gradInput: Tensor?

  public init(_ kind: Kind) { self.kind = kind }

  public func releaseBuffers() {
    output = nil
    gradInput = nil
  }

  public func forward(_ x: Tensor) -> Tensor {
    let (H, W) = (x.h, x.w)
    let (ho, wo) = (H / 2, W / 2)
    precondition(ho > 0 && wo > 0, "Cannot 2×2-pool an input of \(H)×\(W).")
    let y = Tensor.reuse(output, shape: [x.n, x.c, ho, wo])
    output = y
    parallelFor(x.n * x.c) { planes in for p in planes {
      let src = x.data + p * H * W
      let dst = y.data + p * ho * wo
      for oy in 0..<ho {
        let r0 = src + 2 * oy * W
        let r1 = r0 + W
        for ox in 0..<wo {
          let (a, b, c, d) = (r0[2 * ox], r0[2 * ox + 1], r1[2 * ox], r1[2 * ox + 1])
          dst[oy * wo + ox] = kind == .max ? max(max(a, b), max(c, d)) : 0.25 * (a + b + c + d)
        }
      }
    } }
    return y
  }

  public func backward(_ x: Tensor, _ gy: Tensor) -> Tensor {
    let (H, W) = (x.h, x.w)
    let (ho, wo) = (H / 2, W / 2)
    let dx = Tensor.reuse(gradInput, shape: x.shape)
    gradInput = dx
    dx.fill(0)
    parallelFor(x.n * x.c) { planes in for p in planes {
      let src = x.data + p * H * W
      let dsrc = dx.data + p * H * W
      let g = gy.data + p * ho * wo
      for oy in 0..<ho {
        let i0 = 2 * oy * W
        for ox in 0..<wo {
          let gv = g[oy * wo + ox]
          let idx = (i0 + 2 * ox, i0 + 2 * ox + 1, i0 + W + 2 * ox, i0 + W + 2 * ox + 1)
          if kind == .avg {
            let q = 0.25 * gv
            dsrc[idx.0] += q; dsrc[idx.1] += q; dsrc[idx.2] += q; dsrc[idx.3] += q
          } else {
            var best = idx.0
            if src[idx.1] > src[best] { best = idx.1 }
            if src[idx.2] > src[best] { best = idx.2 }
            if src[idx.3] > src[best] { best = idx.3 }
            dsrc[best] += gv
          }
        }
      }
    } }
    return dx
  }
}
