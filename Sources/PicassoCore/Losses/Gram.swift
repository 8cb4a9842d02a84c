/// The Gram matrix of feature maps, normalised by their size (Gatys et al. 2015).
///
/// Shapes: F [N, C, H, W] → G [N, C, C] with G = F·Fᵀ / (C·H·W), F reshaped to [C, H·W].
/// Backward: dF = (dG + dGᵀ)·F / (C·H·W).
public final class Gram: Layer {
  private var output: Tensor?
  private var gradInput: Tensor?
  private var symmetric: Tensor?

  public init() {}

  public func forward(_ f: Tensor) -> Tensor {
    let (c, hw) = (f.c, f.h * f.w)
    let g = Tensor.reuse(output, shape: [f.n, c, c])
    output = g
    let scale = 1 / Float(c * hw)
    for i in 0..<f.n {
      let fi = f.data + i * c * hw
      gemm(transB: true, m: c, n: c, k: hw, alpha: scale, a: fi, lda: hw, b: fi, ldb: hw,
           c: g.data + i * c * c, ldc: c)
    }
    return g
  }

  public func backward(_ f: Tensor, _ dg: Tensor) -> Tensor {
    let (c, hw) = (f.c, f.h * f.w)
    let df = Tensor.reuse(gradInput, shape: f.shape)
    gradInput = df
    let s = Tensor.reuse(symmetric, shape: [c, c])
    symmetric = s
    let scale = 1 / Float(c * hw)
    for i in 0..<f.n {
      let d = dg.data + i * c * c
      for r in 0..<c { for k in 0..<c { s.data[r * c + k] = d[r * c + k] + d[k * c + r] } }
      gemm(m: c, n: hw, k: c, alpha: scale, a: s.data, lda: c, b: f.data + i * c * hw, ldb: hw,
           c: df.data + i * c * hw, ldc: hw)
    }
    return df
  }
}
