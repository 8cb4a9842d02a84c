/// Fast style transfer training (Johnson, Alahi & Fei-Fei 2016): a transformation network
/// learns, over random batches of photos, to minimise the perceptual objective of its
/// output: content against the photo, style against one painting, total variation.
///
/// Everything a run depends on lives in the model's checkpoint (weights, Adam's moments and
/// step, the iteration, the random generator's state), so a resumed run continues exactly.
public final class Trainer {
  public enum Failure: Error, CustomStringConvertible {
    case nonFinite(iteration: Int, LossReport)
    public var description: String {
      switch self {
      case .nonFinite(let it, let r):
        return "the loss became \(r.total) at iteration \(it) (content \(r.content), style \(r.style), tv \(r.tv)); lower --learning-rate or the loss weights"
      }
    }
  }

  public let model: StyleModel
  public let dataset: DatasetReader
  public let objective: StyleObjective
  public private(set) var iteration: Int
  private let adam: Adam
  private var rng: SplitMix64
  private let batch: Tensor
  private var gradient: Tensor?

  /// - Parameters:
  ///   - style: the painting, already at the size it is seen at.
  public init(model: StyleModel, dataset: DatasetReader, style: RGBImage, vggPath: String) throws {
    let s = model.settings
    self.model = model
    self.dataset = dataset
    let vgg = try VGG(weightsFile: vggPath, taps: s.contentLayers + s.styleLayers)
    objective = StyleObjective(
      vgg: vgg, styles: [(style.tensor(), 1)], contentLayers: s.contentLayers, styleLayers: s.styleLayers,
      weights: s.weights)
    adam = Adam(learningRate: s.learningRate)
    batch = Tensor(shape: [s.batchSize, 3, dataset.size, dataset.size])
    if let c = model.checkpoint {
      iteration = c.iteration
      rng = SplitMix64(seed: 0)
      rng.state = c.rngState
      if c.adamT > 0 { adam.restore(t: c.adamT, m: c.adamM, v: c.adamV) }
    } else {
      iteration = 0
      rng = SplitMix64(seed: s.seed)
      model.net.initialise(using: &rng)
    }
  }

  /// One Adam step on a random batch (random horizontal flips). Throws, before touching the
  /// weights, when the loss is not finite.
  @discardableResult
  public func step() throws -> LossReport {
    let n = dataset.counts[.train]!
    let indices = (0..<batch.n).map { _ in Int(rng.next() % UInt64(n)) }
    let flips = (0..<batch.n).map { _ in rng.next() & 1 == 1 }
    try dataset.read(.train, indices: indices, flips: flips, into: batch)
    objective.setContent(batch)
    let net = model.net
    net.zeroGradients()
    let y = net.forward(batch)
    let g = Tensor.reuse(gradient, shape: y.shape)
    gradient = g
    let report = objective.evaluate(y, gradient: g)
    guard report.total.isFinite else { throw Failure.nonFinite(iteration: iteration + 1, report) }
    _ = net.backward(batch, g)
    adam.learningRate = model.settings.learningRate(after: iteration)
    adam.step(net.parameters, net.gradients)
    iteration += 1
    return report
  }

  /// The mean losses over the validation images (in batches, no flips).
  public func validate() throws -> LossReport {
    let n = dataset.counts[.val]!
    var mean = LossReport()
    var seen = 0
    var start = 0
    while start < n {
      let count = min(batch.n, n - start)
      let images = Tensor(shape: [count, 3, dataset.size, dataset.size])
      try dataset.read(.val, indices: Array(start..<(start + count)), into: images)
      objective.setContent(images)
      let r = objective.evaluate(model.net.forward(images))
      let w = Double(count)
      mean.content += w * r.content
      mean.style += w * r.style
      mean.tv += w * r.tv
      mean.total += w * r.total
      seen += count
      start += count
    }
    let d = Double(max(seen, 1))
    (mean.content, mean.style, mean.tv, mean.total) = (mean.content / d, mean.style / d, mean.tv / d, mean.total / d)
    return mean
  }

  /// Stores the optimiser's state in the model, for `StyleModel.save`.
  public func recordCheckpoint() {
    model.checkpoint = StyleModel.Checkpoint(
      iteration: iteration, rngState: rng.state, adamT: adam.t, adamM: adam.m.map { $0.clone() }, adamV: adam.v.map { $0.clone() })
  }
}

extension TransformerNet {
  /// PyTorch's default initialisation: conv weights and biases uniform in ±1/√fan_in;
  /// instance norms γ = 1, β = 0.
  public func initialise(using rng: inout SplitMix64) {
    for layer in allLayers {
      if let conv = layer as? Conv2D {
        let bound = 1 / Float(conv.inChannels * conv.kernel * conv.kernel).squareRoot()
        for p in [conv.weight, conv.bias] {
          for i in 0..<p.count { p.data[i] = bound * (2 * rng.unit() - 1) }
        }
      } else if let norm = layer as? InstanceNorm {
        norm.gamma.fill(1)
        norm.beta.fill(0)
      }
    }
  }

  /// Every leaf layer, depth first.
  public var allLayers: [Layer] {
    func flatten(_ layer: Layer) -> [Layer] {
      if let s = layer as? Sequential { return s.layers.flatMap(flatten) }
      if let r = layer as? Residual { return flatten(r.body) }
      return [layer]
    }
    return flatten(network)
  }
}
