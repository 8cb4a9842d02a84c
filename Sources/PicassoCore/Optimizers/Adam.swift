/// Adam (Kingma & Ba 2015, https://arxiv.org/abs/1412.6980) with bias correction:
///   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  p ← p − lr·m̂/(√v̂ + ε),
///   m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
/// The state (m, v per parameter, and t) is public so a checkpoint can save and restore it.
public final class Adam {
  public var learningRate: Float
  public let beta1: Float, beta2: Float, epsilon: Float
  public var t = 0
  public private(set) var m: [Tensor] = []
  public private(set) var v: [Tensor] = []

  public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
  }

  /// Restores a saved state (from a checkpoint): the step count and the moments.
  public func restore(t: Int, m: [Tensor], v: [Tensor]) {
    precondition(m.count == v.count)
    self.t = t
    self.m = m
    self.v = v
  }

  /// One update of every parameter from its gradient.
  public func step(_ parameters: [Tensor], _ gradients: [Tensor]) {
    precondition(parameters.count == gradients.count)
    if m.isEmpty {
      m = parameters.map { Tensor(shape: $0.shape) }
      v = parameters.map { Tensor(shape: $0.shape) }
    }
    t += 1
    let c1 = 1 - Float(Double(beta1).pow(t)), c2 = 1 - Float(Double(beta2).pow(t))
    let (b1, b2, eps) = (beta1, beta2, epsilon)
    let stepSize = learningRate / c1
    let c2root = c2.squareRoot()
    for (k, p) in parameters.enumerated() {
      let (g, mk, vk) = (gradients[k].data, m[k].data, v[k].data)
      for i in 0..<p.count {
        mk[i] = b1 * mk[i] + (1 - b1) * g[i]
        vk[i] = b2 * vk[i] + (1 - b2) * g[i] * g[i]
        p.data[i] -= stepSize * mk[i] / (vk[i].squareRoot() / c2root + eps)
      }
    }
  }
}

extension Double {
  fileprivate func pow(_ n: Int) -> Double {
    var r = 1.0
    for _ in 0..<n { r *= self }
    return r
  }
}
