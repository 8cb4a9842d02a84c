import Foundation

/// A trained style: the transformation network and everything needed to use, judge, resume
/// or reproduce it, in one HDF5 file.
///
/// Layout (format 2; format 1 networks had no output scale and are refused): attributes
/// `format`, `kind` = "picasso-style-model", `widths`, `blocks`, `output_scale`,
/// `style_name`, `style_size`, `content_layers`, `style_layers`, `content_weight`,
/// `style_weight`, `tv_weight`, `image_size`, `batch_size`, `learning_rate`, `lr_decay_every`,
/// `lr_decay_factor` (optional: files without them have a constant rate), `average_decay`
/// (optional: files without it store the last step's weights), `grid_weight` (optional:
/// files without it were trained without the grid loss), `imported_from`
/// (optional: models made by `picasso import`), `iterations`
/// (planned), `seed`, `dataset`, `training_seconds`; datasets `params/<name>` (float32), `history/train` and
/// `history/val` ([n, 5]: iteration, content, style, tv, total). With `weights_dtype` =
/// "float16" the parameters are stored as IEEE half-precision bit patterns (uint16): half
/// the size, for finished models (a checkpoint always keeps float32). A checkpoint adds
/// `checkpoint/iteration`, `checkpoint/rng`, `checkpoint/adam_t` attributes and
/// `checkpoint/adam_m/<name>`, `checkpoint/adam_v/<name>`; a run that averages its weights
/// stores the average as `params/` and adds the weights it trains, `checkpoint/weights/<name>`,
/// and the steps averaged, `checkpoint/average_steps`; and the threads that took each step,
/// `checkpoint/threads` (optional: files without it leave the count to `--threads`).
public final class StyleModel {
  public static let formatVersion = 2
  public static let kind = "picasso-style-model"

  public struct Settings: Equatable, Sendable {
    public var architecture = TransformerNet.Architecture()
    public var styleName = ""
    public var styleSize = [0, 0]
    public var contentLayers = ["relu2_2"]
    public var styleLayers = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]
    /// `picasso train`'s defaults: fast-neural-style's objective (style weight 5), the one
    /// Johnson et al. measured equivalent iterations under. (Weight 1 was the default while
    /// networks trained for an hour painted texture over the photos' shapes at 5.)
    public var weights = LossWeights(content: 1, style: 5, tv: 1)
    public var imageSize = 256
    /// Two photos per step, one per core in a data-parallel step: more updates per hour than 4.
    public var batchSize = 2
    public var learningRate: Float = 1e-3
    /// Step decay (fast-neural-style's `-lr_decay_every`/`-lr_decay_factor`): the learning rate
    /// is multiplied by `learningRateDecayFactor` after every `learningRateDecayEvery`
    /// iterations, counted in the model's iterations (which `--init-weights` continues); 0 means
    /// a constant rate.
    public var learningRateDecayEvery = 0
    public var learningRateDecayFactor: Float = 0.5
    /// The model is a running average of the weights Adam trains (Polyak averaging, as an
    /// exponential moving average with Adam's bias correction): after each step the average
    /// moves by (1 − decay)/(1 − decayᵗ) of its distance to the new weights, t the steps
    /// averaged. At a constant learning rate the weights wander around a valley of the loss;
    /// their average sits nearer its floor. 0.995 weighs about the last 200 steps (the mean of
    /// a 60-minute run's last four checkpoints scored +8 equivalent iterations); 0 keeps the
    /// last step's weights.
    public var averageDecay: Float = 0.995
    /// Weight of the grid loss (`gridLoss`), a training-only term against the 4-pixel
    /// hatching; not part of the objective the model is judged under (validation, compare).
    /// 1e6: over 20 minutes of *The Starry Night* from the painted base it kept the grid at
    /// 11× the photo's power (309× without) for the same equivalent iterations.
    public var gridWeight: Float = 1e6
    public var iterations = 40000
    public var seed: UInt64 = 0
    public var dataset = ""
    /// The side of the photos in the dataset the run read (`dataset_size`; 0 where unknown, in
    /// files written before it was stored): larger than `imageSize` for random-scale crops.
    /// `--resume` needs the same, or the crops, and so the run, would change.
    public var datasetSize = 0
    /// Where the weights came from when they were not trained here (`picasso import`): the
    /// source file's name. Such a model's painting and loss settings are unknown (attribute
    /// `imported_from`, absent for trained models).
    public var importedFrom = ""
    public init() {}

    /// The learning rate of the step that follows `iteration` completed ones.
    public func learningRate(after iteration: Int) -> Float {
      guard learningRateDecayEvery > 0 else { return learningRate }
      var rate = learningRate
      for _ in 0..<(iteration / learningRateDecayEvery) { rate *= learningRateDecayFactor }
      return rate
    }
  }

  /// One row of a loss history.
  public struct Record: Equatable, Sendable {
    public var iteration: Int
    public var losses: LossReport
    public init(iteration: Int, losses: LossReport) {
      self.iteration = iteration
      self.losses = losses
    }
  }

  /// The optimiser's state at a checkpoint.
  public struct Checkpoint {
    public var iteration: Int
    public var rngState: UInt64
    public var adamT: Int
    public var adamM: [Tensor]
    public var adamV: [Tensor]
    /// With averaging: the weights Adam trains (the model's own are their average), and the
    /// steps averaged so far. Empty and 0 without.
    public var weights: [Tensor]
    public var averageSteps: Int
    /// The workers that split each step (a run is repeatable for a given count): what a
    /// resumed run uses unless told otherwise. 0 where the file does not say.
    public var threads: Int
    public init(iteration: Int, rngState: UInt64, adamT: Int = 0, adamM: [Tensor] = [], adamV: [Tensor] = [],
                weights: [Tensor] = [], averageSteps: Int = 0, threads: Int = 0) {
      (self.iteration, self.rngState, self.adamT, self.adamM, self.adamV) = (iteration, rngState, adamT, adamM, adamV)
      (self.weights, self.averageSteps, self.threads) = (weights, averageSteps, threads)
    }
  }

  public private(set) var settings: Settings
  public let net: TransformerNet
  public var trainHistory: [Record] = []
  public var valHistory: [Record] = []
  public var checkpoint: Checkpoint?
  /// Wall-clock seconds spent training, summed over resumed runs (attribute `training_seconds`).
  public var trainingSeconds: Double = 0

  /// For fine-tuning from these weights: a new learning rate, loss weights and averaging (the
  /// network, layers and painting stay).
  public func retune(learningRate: Float, decayEvery: Int, decayFactor: Float, weights: LossWeights, averageDecay: Float? = nil,
                     gridWeight: Float? = nil) {
    settings.averageDecay = averageDecay ?? settings.averageDecay
    settings.gridWeight = gridWeight ?? settings.gridWeight
    settings.learningRate = learningRate
    settings.learningRateDecayEvery = decayEvery
    settings.learningRateDecayFactor = decayFactor
    settings.weights = weights
  }

  /// Records the dataset a run continued from a model's weights (`--init-weights`) reads.
  public func readsDataset(_ path: String, size: Int) {
    settings.dataset = path
    settings.datasetSize = size
  }

  public init(settings: Settings, net: TransformerNet? = nil) {
    self.settings = settings
    self.net = net ?? TransformerNet(settings.architecture)
  }

  /// Writes the model (and the checkpoint, if any) atomically: a temporary file, then rename.
  /// `float16` stores the weights in half precision and leaves the checkpoint out.
  public func save(to path: String, float16: Bool = false) throws {
    try replaceAtomically(path) { temporary in
      let file = try HDF5File(temporary, mode: .create)
      let s = settings
      try file.setAttribute("format", .numbers([Double(Self.formatVersion)]))
      try file.setAttribute("kind", .string(Self.kind))
      try file.setAttribute("widths", .numbers(s.architecture.widths.map(Double.init)))
      try file.setAttribute("blocks", .numbers([Double(s.architecture.blocks)]))
      try file.setAttribute("output_scale", .numbers([Double(s.architecture.outputScale)]))
      try file.setAttribute("style_name", .string(s.styleName))
      try file.setAttribute("style_size", .numbers(s.styleSize.map(Double.init)))
      try file.setAttribute("content_layers", .strings(s.contentLayers))
      try file.setAttribute("style_layers", .strings(s.styleLayers))
      try file.setAttribute("content_weight", .numbers([Double(s.weights.content)]))
      try file.setAttribute("style_weight", .numbers([Double(s.weights.style)]))
      try file.setAttribute("tv_weight", .numbers([Double(s.weights.tv)]))
      try file.setAttribute("image_size", .numbers([Double(s.imageSize)]))
      try file.setAttribute("batch_size", .numbers([Double(s.batchSize)]))
      try file.setAttribute("learning_rate", .numbers([Double(s.learningRate)]))
      try file.setAttribute("lr_decay_every", .numbers([Double(s.learningRateDecayEvery)]))
      try file.setAttribute("lr_decay_factor", .numbers([Double(s.learningRateDecayFactor)]))
      try file.setAttribute("average_decay", .numbers([Double(s.averageDecay)]))
      try file.setAttribute("grid_weight", .numbers([Double(s.gridWeight)]))
      try file.setAttribute("iterations", .numbers([Double(s.iterations)]))
      try file.setAttribute("seed", .string(String(s.seed)))
      try file.setAttribute("dataset", .string(s.dataset))
      if s.datasetSize > 0 { try file.setAttribute("dataset_size", .numbers([Double(s.datasetSize)])) }
      try file.setAttribute("training_seconds", .numbers([trainingSeconds]))
      if !s.importedFrom.isEmpty { try file.setAttribute("imported_from", .string(s.importedFrom)) }
      try file.setAttribute("weights_dtype", .string(float16 ? "float16" : "float32"))
      for (name, p) in zip(net.parameterNames, net.parameters) {
        if float16 {
          try file.write("params/\(name)", shape: p.shape, halfs: p.buffer.map { Float16($0).bitPattern })
        } else {
          try file.write("params/\(name)", shape: p.shape, floats: UnsafeBufferPointer(p.buffer))
        }
      }
      for (name, history) in [("train", trainHistory), ("val", valHistory)] {
        let rows = history.flatMap { r in
          [Float(r.iteration), Float(r.losses.content), Float(r.losses.style), Float(r.losses.tv), Float(r.losses.total)]
        }
        try file.write("history/\(name)", shape: [history.count, 5], floats: rows)
      }
      if let c = checkpoint, !float16 {
        try file.createGroup("checkpoint")
        try file.setAttribute("iteration", .numbers([Double(c.iteration)]), of: "checkpoint")
        try file.setAttribute("rng", .string(String(c.rngState)), of: "checkpoint")
        try file.setAttribute("adam_t", .numbers([Double(c.adamT)]), of: "checkpoint")
        if c.threads > 0 { try file.setAttribute("threads", .numbers([Double(c.threads)]), of: "checkpoint") }
        for (k, name) in net.parameterNames.enumerated() where k < c.adamM.count {
          try file.write("checkpoint/adam_m/\(name)", shape: c.adamM[k].shape, floats: UnsafeBufferPointer(c.adamM[k].buffer))
          try file.write("checkpoint/adam_v/\(name)", shape: c.adamV[k].shape, floats: UnsafeBufferPointer(c.adamV[k].buffer))
        }
        if !c.weights.isEmpty {
          try file.setAttribute("average_steps", .numbers([Double(c.averageSteps)]), of: "checkpoint")
          for (name, w) in zip(net.parameterNames, c.weights) {
            try file.write("checkpoint/weights/\(name)", shape: w.shape, floats: UnsafeBufferPointer(w.buffer))
          }
        }
      }
      file.flush()
    }
  }

  /// Loads a model file, refusing one it does not understand with the reason.
  public static func load(_ path: String) throws -> StyleModel {
    guard FileManager.default.fileExists(atPath: path) else { throw PicassoError.file(path, "no such model file") }
    let file = try HDF5File(path, requireChecksums: true)
    guard (try? file.string("kind")) == kind else {
      throw PicassoError.file(path, "not a picasso style model (no kind = \"\(kind)\" attribute)")
    }
    // Every number is checked before it is used: a model file may come from anyone.
    func whole(_ x: Double, _ name: String, _ range: ClosedRange<Int>) throws -> Int {
      guard x.isFinite, x == x.rounded(), x >= Double(range.lowerBound), x <= Double(range.upperBound) else {
        throw PicassoError.file(path, "\(name) is \(x), expected a whole number in \(range.lowerBound)…\(range.upperBound)")
      }
      return Int(x)
    }
    func integer(_ name: String, of object: String = "/", _ range: ClosedRange<Int>) throws -> Int {
      try whole(try file.number(name, of: object), "attribute '\(name)'", range)
    }
    /// Reads a float dataset (or float16 bit patterns) whose shape must be `expected`,
    /// checked before anything is allocated.
    func tensorValues(_ name: String, expected: [Int], half: Bool = false) throws -> [Float] {
      let shape = try file.shape(of: name)
      guard shape == expected else { throw PicassoError.file(path, "'\(name)' has shape \(shape), expected \(expected)") }
      if half { return try file.readHalfs(name).values.map { Float(Float16(bitPattern: $0)) } }
      return try file.readFloats(name).values
    }
    let format = try integer("format", 0...Int(Int32.max))
    guard format <= formatVersion else {
      throw PicassoError.file(path, "model format \(format) is newer than this picasso understands (\(formatVersion)); update picasso")
    }
    guard format == formatVersion else {
      throw PicassoError.file(path, "model format \(format) predates the network's output scale (format \(formatVersion)); train it again")
    }
    func numbers(_ name: String) throws -> [Double] {
      guard case .numbers(let v) = try file.attribute(name) else { throw PicassoError.file(path, "attribute '\(name)' is not numeric") }
      return v
    }
    func strings(_ name: String) throws -> [String] {
      switch try file.attribute(name) {
      case .strings(let v): return v
      case .string(let v): return [v]
      default: throw PicassoError.file(path, "attribute '\(name)' is not text")
      }
    }
    var s = Settings()
    let widths = try numbers("widths").map { try whole($0, "a width", 1...1024) }
    let blocks = try integer("blocks", 0...64)
    guard widths.count == 3 else { throw PicassoError.file(path, "unsupported architecture: widths \(widths)") }
    let parameterLimit = 1 << 26
    guard TransformerNet.Architecture(widths: widths, blocks: blocks).parameterCount <= parameterLimit else {
      throw PicassoError.file(path, "architecture \(widths), \(blocks) blocks has more than \(parameterLimit) parameters (a corrupt or hostile file?)")
    }
    let scale = Float(try file.number("output_scale"))
    guard scale > 0, scale.isFinite else { throw PicassoError.file(path, "unsupported output scale \(scale)") }
    s.architecture = .init(widths: widths, blocks: blocks, outputScale: scale)
    s.styleName = try file.string("style_name")
    s.styleSize = try numbers("style_size").map { try whole($0, "style_size", 0...1 << 20) }
    s.contentLayers = try strings("content_layers")
    s.styleLayers = try strings("style_layers")
    s.weights = LossWeights(content: Float(try file.number("content_weight")), style: Float(try file.number("style_weight")),
                            tv: Float(try file.number("tv_weight")))
    s.imageSize = try integer("image_size", 0...1 << 20)
    s.batchSize = try integer("batch_size", 0...1 << 20)
    s.learningRate = Float(try file.number("learning_rate"))
    if file.hasAttribute("lr_decay_every") {  // absent in files written before the schedule existed
      s.learningRateDecayEvery = try integer("lr_decay_every", 0...Int(Int32.max))
      s.learningRateDecayFactor = Float(try file.number("lr_decay_factor"))
    }
    // Absent in files written before averaging existed: their weights are the last step's.
    s.averageDecay = 0
    if file.hasAttribute("average_decay") {
      let decay = try file.number("average_decay")
      guard decay >= 0, decay < 1 else { throw PicassoError.file(path, "average_decay is \(decay), expected 0 ≤ decay < 1") }
      s.averageDecay = Float(decay)
    }
    // Absent in files written before the grid loss existed: trained without it.
    s.gridWeight = 0
    if file.hasAttribute("grid_weight") {
      let weight = try file.number("grid_weight")
      guard weight >= 0, weight.isFinite else { throw PicassoError.file(path, "grid_weight is \(weight), expected a number of at least 0") }
      s.gridWeight = Float(weight)
    }
    s.iterations = try integer("iterations", 0...Int(Int32.max))
    s.seed = UInt64(try file.string("seed")) ?? 0
    s.dataset = try file.string("dataset")
    if file.hasAttribute("dataset_size") { s.datasetSize = try integer("dataset_size", 0...1 << 20) }
    if file.hasAttribute("imported_from") { s.importedFrom = try file.string("imported_from") }
    let model = StyleModel(settings: s)
    model.trainingSeconds = (try? file.number("training_seconds")) ?? 0
    let half = (try? file.string("weights_dtype")) == "float16"
    for (name, p) in zip(model.net.parameterNames, model.net.parameters) {
      let values = try tensorValues("params/\(name)", expected: p.shape, half: half)
      values.withUnsafeBufferPointer { p.data.update(from: $0.baseAddress!, count: p.count) }
    }
    for (name, keyPath) in [("train", \StyleModel.trainHistory), ("val", \StyleModel.valHistory)] where file.exists("history/\(name)") {
      let shape = try file.shape(of: "history/\(name)")
      guard shape.count == 2, shape[1] == 5 || shape[0] == 0, shape[0] <= 1 << 24 else {
        throw PicassoError.file(path, "'history/\(name)' has shape \(shape), expected [n ≤ \(1 << 24), 5]")
      }
      let rows = try file.readFloats("history/\(name)").values
      model[keyPath: keyPath] = try (0..<shape[0]).map { i in
        var r = LossReport()
        (r.content, r.style, r.tv, r.total) = (Double(rows[5 * i + 1]), Double(rows[5 * i + 2]), Double(rows[5 * i + 3]), Double(rows[5 * i + 4]))
        return Record(iteration: try whole(Double(rows[5 * i]), "an iteration in 'history/\(name)'", 0...Int(Int32.max)), losses: r)
      }
    }
    if file.exists("checkpoint") {
      let iteration = try integer("iteration", of: "checkpoint", 0...Int(Int32.max))
      let rng = UInt64(try file.string("rng", of: "checkpoint")) ?? 0
      let t = try integer("adam_t", of: "checkpoint", 0...Int(Int32.max))
      var m: [Tensor] = [], v: [Tensor] = []
      if t > 0 {
        for (name, p) in zip(model.net.parameterNames, model.net.parameters) {
          m.append(Tensor(shape: p.shape, values: try tensorValues("checkpoint/adam_m/\(name)", expected: p.shape)))
          v.append(Tensor(shape: p.shape, values: try tensorValues("checkpoint/adam_v/\(name)", expected: p.shape)))
        }
      }
      var weights: [Tensor] = []
      var averageSteps = 0
      if file.exists("checkpoint/weights") {
        averageSteps = try integer("average_steps", of: "checkpoint", 0...Int(Int32.max))
        for (name, p) in zip(model.net.parameterNames, model.net.parameters) {
          weights.append(Tensor(shape: p.shape, values: try tensorValues("checkpoint/weights/\(name)", expected: p.shape)))
        }
      }
      let threads = file.hasAttribute("threads", of: "checkpoint") ? try integer("threads", of: "checkpoint", 1...64) : 0
      model.checkpoint = Checkpoint(iteration: iteration, rngState: rng, adamT: t, adamM: m, adamV: v, weights: weights,
                                    averageSteps: averageSteps, threads: threads)
    }
    return model
  }
}
