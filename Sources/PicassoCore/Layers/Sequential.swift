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

/// A gated skip past `body`: y = body(x) + α_c·x for each channel c, with α one trainable
/// factor per channel that starts at 0, so a network given the path begins as the same
/// function as one without it. `body` must keep the input's shape.
/// Backward: dx = body'(dy) + α_c·dy,  dα_c += Σ dy·x over the images and pixels of channel c.
public final class GatedSkip: Layer {
  public let body: Layer
  public let gate: Tensor, gateGrad: Tensor
  private var output: Tensor?, gradInput: Tensor?

  public init(_ body: Layer, channels: Int) {
    self.body = body
    gate = Tensor(shape: [channels])
    gateGrad = Tensor(shape: [channels])
  }

  public func forward(_ x: Tensor) -> Tensor {
    precondition(x.c == gate.count, "GatedSkip(\(gate.count)) given \(x.shape).")
    let b = body.forward(x)
    precondition(b.shape == x.shape, "GatedSkip's body changed the shape \(x.shape) to \(b.shape).")
    let y = Tensor.reuse(output, shape: x.shape)
    output = y
    let plane = x.h * x.w
    for p in 0..<(x.n * x.c) {
      let a = gate.data[p % x.c], base = p * plane
      for i in base..<(base + plane) { y.data[i] = b.data[i] + a * x.data[i] }
    }
    return y
  }

  public func backward(_ x: Tensor, _ dy: Tensor) -> Tensor {
    let db = body.backward(x, dy)
    let dx = Tensor.reuse(gradInput, shape: x.shape)
    gradInput = dx
    let plane = x.h * x.w
    for p in 0..<(x.n * x.c) {
      let c = p % x.c, a = gate.data[c], base = p * plane
      var sum = 0.0
      for i in base..<(base + plane) {
        dx.data[i] = db.data[i] + a * dy.data[i]
        sum += Double(dy.data[i] * x.data[i])
      }
      gateGrad.data[c] += Float(sum)
    }
    return dx
  }

  public func releaseBuffers() {
    body.releaseBuffers()
    output = nil
    gradInput = nil
  }

  public var parameters: [Tensor] { body.parameters + [gate] }
  public var gradients: [Tensor] { body.gradients + [gateGrad] }
}
