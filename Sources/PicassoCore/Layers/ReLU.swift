/// ReLU: y = max(0, x); backward dx = dy where y > 0.
public final class ReLU: Layer {
  private var output: Tensor?, gradInput: Tensor?
  public init() {}

  public func releaseBuffers() {
    output = nil
    gradInput = nil
  }

  public func forward(_ x: Tensor) -> Tensor {
    let y = Tensor.reuse(output, shape: x.shape)
    output = y
    y.copy(from: x)
    reluInPlace(y.data, y.count)
    return y
  }

  public func backward(_ x: Tensor, _ dy: Tensor) -> Tensor {
    let dx = Tensor.reuse(gradInput, shape: x.shape)
    gradInput = dx
    dx.copy(from: dy)
    reluBackwardInPlace(dx.data, mask: output!.data, dx.count)
    return dx
  }
}
