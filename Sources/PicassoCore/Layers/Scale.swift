/// y = s·x with a fixed s; backward dx = s·dy. No parameters.
public final class Scale: Layer {
  public let factor: Float
  private var output: Tensor?, gradInput: Tensor?
  public init(_ factor: Float) { self.factor = factor }

  public func releaseBuffers() {
    output = nil
    gradInput = nil
  }

  public func forward(_ x: Tensor) -> Tensor {
    let y = Tensor.reuse(output, shape: x.shape)
    output = y
    y.fill(0)
    y.add(x, scaledBy: factor)
    return y
  }

  public func backward(_ x: Tensor, _ dy: Tensor) -> Tensor {
    let dx = Tensor.reuse(gradInput, shape: x.shape)
    gradInput = dx
    dx.fill(0)
    dx.add(dy, scaledBy: factor)
    return dx
  }
}
