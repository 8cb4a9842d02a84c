/// Layers applied in order; remembers each layer's input for the backward pass.
public final class Sequential: Layer {
  public let layers: [Layer]
  private var inputs: [Tensor] = []

  public init(_ layers: [Layer]) { self.layers = layers }

  public func forward(_ x: Tensor) -> Tensor {
    inputs.removeAll(keepingCapacity: true)
    var y = x
    for layer in layers {
      inputs.append(y)
      y = layer.forward(y)
    }
    return y
  }

  public func backward(_ x: Tensor, _ dy: Tensor) -> Tensor {
    var g = dy
    for (layer, input) in zip(layers, inputs).reversed() { g = layer.backward(input, g) }
    return g
  }

  public func releaseBuffers() {
    inputs.removeAll()
    for layer in layers { layer.releaseBuffers() }
  }

  public var parameters: [Tensor] { layers.flatMap(\.parameters) }
  public var gradients: [Tensor] { layers.flatMap(\.gradients) }
}

/// y = x + body(x); backward dx = dy + body'(dy).
public final class Residual: Layer {
  public let body: Layer
  private var output: Tensor?, gradInput: Tensor?
  public init(_ body: Layer) { self.body = body }

  public func forward(_ x: Tensor) -> Tensor {
    let b = body.forward(x)
    let y = Tensor.reuse(output, shape: x.shape)
    output = y
    for i in 0..<y.count { y.data[i] = x.data[i] + b.data[i] }
    return y
  }

  public func backward(_ x: Tensor, _ dy: Tensor) -> Tensor {
    let db = body.backward(x, dy)
    let dx = Tensor.reuse(gradInput, shape: x.shape)
    gradInput = dx
    for i in 0..<dx.count { dx.data[i] = dy.data[i] + db.data[i] }
    return dx
  }

  public func releaseBuffers() {
    body.releaseBuffers()
    output = nil
    gradInput = nil
  }

  public var parameters: [Tensor] { body.parameters }
  public var gradients: [Tensor] { body.gradients }
}
