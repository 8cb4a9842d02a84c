import Dispatch
import Foundation

/// Fast style transfer training (Johnson, Alahi & Fei-Fei 2016): a transformation network
/// learns, over random batches of photos, to minimise the perceptual objective of its
/// output: content against the photo, style against one painting, total variation; and, with
/// `Settings.gridWeight`, the grid loss against the 4-pixel hatching (trained, not judged).
///
/// Everything a run depends on lives in the model's checkpoint (weights, Adam's moments and
/// step, the iteration, the random generator's state, the weights being averaged), so a
/// resumed run continues exactly.
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
  /// The network Adam trains: the model's own, or, when the model keeps a running average of
  /// the weights (`Settings.averageDecay` > 0), a second network whose average the model's holds.
  public let network: TransformerNet
  /// Steps in the model's running average (0 without averaging).
  public private(set) var averageSteps = 0
  /// Threads that each take a share of every batch (at most this process's share).
  public let workers: Int
  /// The processes this run spans (nil: this one alone); each takes a contiguous share of
  /// every batch, in rank order.
  public let group: ProcessGroup?
  private let adam: Adam
  private var rng: SplitMix64
  private let batchSize: Int
  /// One per worker: worker 0 is `network` and `objective`; the others hold a
  /// copy of the network (weights copied in before every step) and a loss network of their own.
  private let replicas: [Replica]
  /// Every gradient in one buffer, for the sum over a group.
  private var flat: [Float] = []
  /// Seconds spent summing the gradients over the group, waiting for the slowest rank
  /// included.
  public private(set) var sumSeconds = 0.0
  /// The last step's grid loss (`gridLoss`, summed over the batch; 0 when its weight is 0):
  /// trained against but not part of the step's report, which is the judged objective.
  public private(set) var grid = 0.0

  /// One worker's network, loss network and buffers, for its share of every batch.
  private final class Replica {
    let net: TransformerNet
    let objective: StyleObjective
    /// The photos of each batch it takes, its input buffer, and its fraction of the batch.
    let range: Range<Int>
    let input: Tensor
    let share: Float
    var gradient: Tensor?
    var report = LossReport()
    var grid = 0.0
    init(net: TransformerNet, objective: StyleObjective, range: Range<Int>, batch: Int, size: Int) {
      (self.net, self.objective, self.range) = (net, objective, range)
      input = Tensor(shape: [range.count, 3, size, size])
      share = Float(range.count) / Float(batch)
    }
  }

  /// - Parameters:
  ///   - style: the painting, already at the size it is seen at.
  ///   - workers: threads for a data-parallel step (clamped to the batch size). Each runs the
  ///     network and the loss network on its share of the batch with one core's kernels; the
  ///     gradients are summed in worker order, so a run is repeatable for a given count.
  ///     One worker runs the step as one pass over the batch, with every core in each kernel.
  ///   - group: the processes of a data-parallel job (at most one per photo of a batch). Rank
  ///     r takes the photos r·B/N ..< (r+1)·B/N of every batch and splits them over its
  ///     workers; gradients and losses are summed over the ranks after each rank has summed
  ///     its workers'. Two ranks of one worker sum exactly as one process of two workers.
  public init(model: StyleModel, dataset: DatasetReader, style: RGBImage, vggPath: String, workers: Int = 1,
              group: ProcessGroup? = nil) throws {
    let s = model.settings
    self.model = model
    self.dataset = dataset
    self.group = group
    batchSize = s.batchSize
    let (rank, ranks) = (group?.rank ?? 0, group?.size ?? 1)
    precondition(ranks <= s.batchSize, "more processes than photos in a batch")
    let share = (rank * s.batchSize / ranks)..<((rank + 1) * s.batchSize / ranks)
    self.workers = max(1, min(workers, share.count))
    let styleTensor = style.tensor()
    // The painting's Gram matrices on one core, as a rank of an MPI job computes them: with
    // OpenBLAS's AVX-512 kernels two threads round them otherwise, and two ranks would then
    // train apart from one process of two threads.
    func makeObjective() throws -> StyleObjective {
      let vgg = try VGG(weightsFile: vggPath, taps: s.contentLayers + s.styleLayers)
      return onOneCore {
        StyleObjective(
          vgg: vgg, styles: [(styleTensor, 1)], contentLayers: s.contentLayers, styleLayers: s.styleLayers,
          weights: s.weights)
      }
    }
    objective = try makeObjective()
    var replicas: [Replica] = []
    for w in 0..<self.workers {
      // Contiguous shares of this process's photos, as even as can be.
      let range = (share.lowerBound + w * share.count / self.workers)..<(share.lowerBound + (w + 1) * share.count / self.workers)
      replicas.append(Replica(
        net: w > 0 || s.averageDecay > 0 ? TransformerNet(s.architecture) : model.net, objective: w == 0 ? objective : try makeObjective(),
        range: range, batch: s.batchSize, size: s.imageSize))
    }
    self.replicas = replicas
    network = replicas[0].net
    adam = Adam(learningRate: s.learningRate)
    var start = model.net.parameters
    if let c = model.checkpoint {
      iteration = c.iteration
      rng = SplitMix64(seed: 0)
      rng.state = c.rngState
      if c.adamT > 0 { adam.restore(t: c.adamT, m: c.adamM, v: c.adamV) }
      // A checkpoint without trained weights (a run that did not average, or --init-weights)
      // starts a new average from the model's weights.
      if !c.weights.isEmpty && s.averageDecay > 0 { (start, averageSteps) = (c.weights, c.averageSteps) }
    } else {
      iteration = 0
      rng = SplitMix64(seed: s.seed)
      model.net.initialise(using: &rng)
    }
    if network !== model.net { for (p, q) in zip(network.parameters, start) { p.copy(from: q) } }
  }

  /// One Adam step on a random batch (random horizontal flips). Throws, before touching the
  /// weights, when the loss is not finite.
  ///
  /// With several workers each runs forward and backward on its share; the step's losses are
  /// the batch's (content and style weighted by share, TV summed) and its gradient is the sum
  /// of the workers' in worker order, equal to one pass's within float rounding.
  @discardableResult
  public func step() throws -> LossReport {
    let n = dataset.counts[.train]!
    let indices = (0..<batchSize).map { _ in Int(rng.next() % UInt64(n)) }
    let flips = (0..<batchSize).map { _ in rng.next() & 1 == 1 }
    let windows = randomWindows()
    let net = network
    let gridWeight = model.settings.gridWeight
    for (w, r) in replicas.enumerated() {
      try dataset.read(.train, indices: Array(indices[r.range]), flips: Array(flips[r.range]),
                       windows: windows.map { Array($0[r.range]) }, into: r.input)
      if w > 0 { for (p, q) in zip(r.net.parameters, net.parameters) { p.copy(from: q) } }
    }
    eachWorker(workers) { w in
      let r = replicas[w]
      r.objective.setContent(r.input)
      r.net.zeroGradients()
      let y = r.net.forward(r.input)
      let g = Tensor.reuse(r.gradient, shape: y.shape)
      r.gradient = g
      r.report = r.objective.evaluate(y, gradient: g, share: r.share)
      // A sum over the images, as TV: the part's own gradient is the batch's.
      r.grid = gridWeight > 0 ? gridLoss(y, gradient: g, weight: gridWeight) : 0
      if r.report.total.isFinite { _ = r.net.backward(r.input, g) }
    }
    var report = replicas[0].report
    grid = replicas.reduce(0) { $0 + $1.grid }
    if workers > 1 || group != nil {
      report = LossReport()
      for r in replicas {
        let f = Double(r.share)
        report.content += f * r.report.content
        report.style += f * r.report.style
        for (layer, v) in r.report.styleByLayer { report.styleByLayer[layer, default: 0] += f * v }
        report.tv += r.report.tv
      }
      if let group { (report, grid) = sum(report, grid: grid, over: group) }
      let w = model.settings.weights
      report.total = Double(w.content) * report.content + Double(w.style) * report.style + Double(w.tv) * report.tv
    }
    guard report.total.isFinite else { throw Failure.nonFinite(iteration: iteration + 1, report) }
    for r in replicas.dropFirst() {
      for (g, h) in zip(net.gradients, r.net.gradients) { g.add(h) }
    }
    if let group {
      let start = DispatchTime.now().uptimeNanoseconds
      sum(net.gradients, over: group)
      sumSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }
    adam.learningRate = model.settings.learningRate(after: iteration)
    adam.step(net.parameters, net.gradients)
    iteration += 1
    if network !== model.net { updateAverage() }
    return report
  }

  /// Random-scale crops, when the network trains on photos smaller than the stored ones
  /// (`Settings.imageSize` below the dataset's size S): per photo, a square window of side
  /// uniform in C…S at a uniform place, scaled to C. Nil when C = S (the photos as stored).
  private func randomWindows() -> [DatasetReader.Window]? {
    let (c, size) = (model.settings.imageSize, dataset.size)
    guard c < size else { return nil }
    return (0..<batchSize).map { _ in
      let side = c + Int(rng.next() % UInt64(size - c + 1))
      let x = Int(rng.next() % UInt64(size - side + 1))
      return DatasetReader.Window(x: x, y: Int(rng.next() % UInt64(size - side + 1)), side: side)
    }
  }

  /// Moves the model's weights toward the trained ones: the exponential moving average with
  /// decay β, divided by 1 − βᵗ as Adam corrects its moments, so that the average is a
  /// weighted mean of the t steps' weights alone (the first step's weights at t = 1) and not
  /// drawn toward the weights the run started from.
  private func updateAverage() {
    averageSteps += 1
    let beta = Double(model.settings.averageDecay)
    let c = Float((1 - beta) / (1 - pow(beta, Double(averageSteps))))
    for (a, w) in zip(model.net.parameters, network.parameters) {
      if averageSteps == 1 { a.copy(from: w); continue }
      let (x, y) = (a.data, w.data)
      for i in 0..<a.count { x[i] += c * (y[i] - x[i]) }
    }
  }

  /// The losses of the whole batch from each rank's share-weighted part (the layers of the
  /// style term in name order, the same on every rank), and the grid loss.
  private func sum(_ part: LossReport, grid: Double, over group: ProcessGroup) -> (LossReport, Double) {
    let layers = model.settings.styleLayers.sorted()
    var values = [part.content, part.style, part.tv, grid] + layers.map { part.styleByLayer[$0] ?? 0 }
    group.sum(&values)
    var report = LossReport()
    (report.content, report.style, report.tv) = (values[0], values[1], values[2])
    for (layer, v) in zip(layers, values.dropFirst(4)) { report.styleByLayer[layer] = v }
    return (report, values[3])
  }

  /// Sums the gradients over the ranks, through one buffer (one collective per step).
  private func sum(_ gradients: [Tensor], over group: ProcessGroup) {
    if flat.count != gradients.reduce(0, { $0 + $1.count }) { flat = [Float](repeating: 0, count: gradients.reduce(0) { $0 + $1.count }) }
    flat.withUnsafeMutableBufferPointer { buffer in
      var offset = 0
      for g in gradients {
        (buffer.baseAddress! + offset).update(from: g.data, count: g.count)
        offset += g.count
      }
    }
    group.sum(&flat)
    flat.withUnsafeBufferPointer { buffer in
      var offset = 0
      for g in gradients {
        g.data.update(from: buffer.baseAddress! + offset, count: g.count)
        offset += g.count
      }
    }
  }

  /// The mean losses over the validation images (in batches, no flips; each whole, scaled to
  /// `Settings.imageSize` when stored larger).
  public func validate() throws -> LossReport {
    let n = dataset.counts[.val]!
    var mean = LossReport()
    var seen = 0
    var start = 0
    while start < n {
      let count = min(batchSize, n - start)
      let side = model.settings.imageSize  // the whole stored photo, scaled when smaller
      let images = Tensor(shape: [count, 3, side, side])
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
      iteration: iteration, rngState: rng.state, adamT: adam.t, adamM: adam.m.map { $0.clone() }, adamV: adam.v.map { $0.clone() },
      weights: network === model.net ? [] : network.parameters.map { $0.clone() }, averageSteps: averageSteps,
      threads: group == nil ? workers : 0)
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
