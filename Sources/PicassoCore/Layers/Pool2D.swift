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
    // Every element of dx is written once (each window's four, then the dropped odd row and
    // column as zeros), so dx needs no clearing first.
    parallelFor(x.n * x.c) { planes in for p in planes {
      let src = x.data + p * H * W
      let dsrc = dx.data + p * H * W
      let g = gy.data + p * ho * wo
      for oy in 0..<ho {
        let (r0, d0) = (src + 2 * oy * W, dsrc + 2 * oy * W)
        let (r1, d1) = (r0 + W, d0 + W)
        for ox in 0..<wo {
          let gv = g[oy * wo + ox]
          let (i, j) = (2 * ox, 2 * ox + 1)
          if kind == .avg {
            let q = 0.25 * gv
            (d0[i], d0[j], d1[i], d1[j]) = (q, q, q, q)
          } else {
            // The first maximal element of (r0[i], r0[j], r1[i], r1[j]) takes the gradient.
            var (best, top) = (0, r0[i])
            if r0[j] > top { (best, top) = (1, r0[j]) }
            if r1[i] > top { (best, top) = (2, r1[i]) }
            if r1[j] > top { best = 3 }
            (d0[i], d0[j], d1[i], d1[j]) = (best == 0 ? gv : 0, best == 1 ? gv : 0, best == 2 ? gv : 0, best == 3 ? gv : 0)
          }
        }
        if W % 2 == 1 { (d0[W - 1], d1[W - 1]) = (0, 0) }
      }
      if H % 2 == 1 { (dsrc + (H - 1) * W).update(repeating: 0, count: W) }
    } }
    return dx
  }
}
