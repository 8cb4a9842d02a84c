/// Nearest-neighbour ×2 upsampling: y[2i+a, 2j+b] = x[i, j]; backward sums each 2×2 block.
public final class Upsample2x: Layer {
  private var output: Tensor?, gradInput: Tensor?
  /// When true, forward returns its input unchanged: the conv after it upsamples
  /// (`Conv2D.upsamplesInput`). Forward only.
  public var passesThrough = false
  public init() {}

  public func releaseBuffers() {
    output = nil
    gradInput = nil
  }

  public func forward(_ x: Tensor) -> Tensor {
    if passesThrough { return x }
    let (h, w) = (x.h, x.w)
    let y = Tensor.reuse(output, shape: [x.n, x.c, 2 * h, 2 * w])
    output = y
    parallelFor(x.n * x.c) { planes in
      for p in planes {
        let src = x.data + p * h * w, dst = y.data + p * 4 * h * w
        for i in 0..<h {
          let row = dst + 2 * i * 2 * w
          for j in 0..<w { row[2 * j] = src[i * w + j]; row[2 * j + 1] = src[i * w + j] }
          (row + 2 * w).update(from: row, count: 2 * w)
        }
      }
    }
    return y
  }

  public func backward(_ x: Tensor, _ dy: Tensor) -> Tensor {
    require(!passesThrough, "An upsample folded into its conv has no backward pass: train with foldsUpsampling off.")
    let (h, w) = (x.h, x.w)
    require(dy.shape == [x.n, x.c, 2 * h, 2 * w], "Upsample2x gradOutput \(dy.shape) for input \(x.shape).")
    let dx = Tensor.reuse(gradInput, shape: x.shape)
    gradInput = dx
    parallelFor(x.n * x.c) { planes in
      for p in planes {
        let g = dy.data + p * 4 * h * w, out = dx.data + p * h * w
        for i in 0..<h {
          let r0 = g + 2 * i * 2 * w, r1 = r0 + 2 * w
          for j in 0..<w { out[i * w + j] = r0[2 * j] + r0[2 * j + 1] + r1[2 * j] + r1[2 * j + 1] }
        }
      }
    }
    return dx
  }
}
