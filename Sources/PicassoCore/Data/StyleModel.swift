import Foundation

/// A trained style: the transformation network and everything needed to use, judge, resume
/// or reproduce it, in one HDF5 file.
///
/// Layout (format 2; format 1 networks had no output scale and are refused): attributes
/// `format`, `kind` = "picasso-style-model", `widths`, `blocks`, `output_scale`,
/// `style_name`, `style_size`, `content_layers`, `style_layers`, `content_weight`,
/// `style_weight`, `tv_weight`, `image_size`, `batch_size`, `learning_rate`, `iterations`
/// (planned), `seed`, `dataset`, `training_seconds`; datasets `params/<name>` (float32), `history/train` and
/// `history/val` ([n, 5]: iteration, content, style, tv, total). With `weights_dtype` =
/// "float16" the parameters are stored as IEEE half-precision bit patterns (uint16): half
/// the size, for finished models (a checkpoint always keeps float32). A checkpoint adds
/// `checkpoint/iteration`, `checkpoint/rng`, `checkpoint/adam_t` attributes and
/// `checkpoint/adam_m/<name>`, `checkpoint/adam_v/<name>`.
public final class StyleModel {
  public static let formatVersion = 2
  public static let kind = "picasso-style-model"

  public struct Settings: Equatable, Sendable {
    public var architecture = TransformerNet.Architecture()
    public var styleName = ""
    public var styleSize = [0, 0]
    public var contentLayers = ["relu2_2"]
    public var styleLayers = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]
    public var weights = LossWeights(content: 1, style: 5, tv: 1)
    public var imageSize = 256
    public var batchSize = 4
    public var learningRate: Float = 1e-3
    public var iterations = 40000
    public var seed: UInt64 = 0
    public var dataset = ""
    public init() {}
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
    public init(iteration: Int, rngState: UInt64, adamT: Int = 0, adamM: [Tensor] = [], adamV: [Tensor] = []) {
      (self.iteration, self.rngState, self.adamT, self.adamM, self.adamV) = (iteration, rngState, adamT, adamM, adamV)
    }
  }

  public let settings: Settings
  public let net: TransformerNet
  public var trainHistory: [Record] = []
  public var valHistory: [Record] = []
  public var checkpoint: Checkpoint?
  /// Wall-clock seconds spent training, summed over resumed runs (attribute `training_seconds`).
  public var trainingSeconds: Double = 0

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
      try file.setAttribute("iterations", .numbers([Double(s.iterations)]))
      try file.setAttribute("seed", .string(String(s.seed)))
      try file.setAttribute("dataset", .string(s.dataset))
      try file.setAttribute("training_seconds", .numbers([trainingSeconds]))
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
        for (k, name) in net.parameterNames.enumerated() where k < c.adamM.count {
          try file.write("checkpoint/adam_m/\(name)", shape: c.adamM[k].shape, floats: UnsafeBufferPointer(c.adamM[k].buffer))
          try file.write("checkpoint/adam_v/\(name)", shape: c.adamV[k].shape, floats: UnsafeBufferPointer(c.adamV[k].buffer))
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
    let format = Int(try file.number("format"))
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
    let widths = try numbers("widths").map { Int($0) }
    let blocks = Int(try file.number("blocks"))
    guard widths.count == 3, widths.allSatisfy({ (1...4096).contains($0) }), (0...64).contains(blocks) else {
      throw PicassoError.file(path, "unsupported architecture: widths \(widths), \(blocks) blocks")
    }
    let scale = Float(try file.number("output_scale"))
    guard scale > 0, scale.isFinite else { throw PicassoError.file(path, "unsupported output scale \(scale)") }
    s.architecture = .init(widths: widths, blocks: blocks, outputScale: scale)
    s.styleName = try file.string("style_name")
    s.styleSize = try numbers("style_size").map { Int($0) }
    s.contentLayers = try strings("content_layers")
    s.styleLayers = try strings("style_layers")
    s.weights = LossWeights(content: Float(try file.number("content_weight")), style: Float(try file.number("style_weight")),
                            tv: Float(try file.number("tv_weight")))
    s.imageSize = Int(try file.number("image_size"))
    s.batchSize = Int(try file.number("batch_size"))
    s.learningRate = Float(try file.number("learning_rate"))
    s.iterations = Int(try file.number("iterations"))
    s.seed = UInt64(try file.string("seed")) ?? 0
    s.dataset = try file.string("dataset")
    let model = StyleModel(settings: s)
    model.trainingSeconds = (try? file.number("training_seconds")) ?? 0
    let half = (try? file.string("weights_dtype")) == "float16"
    for (name, p) in zip(model.net.parameterNames, model.net.parameters) {
      let shape: [Int], values: [Float]
      if half {
        let (s16, v16) = try file.readHalfs("params/\(name)")
        (shape, values) = (s16, v16.map { Float(Float16(bitPattern: $0)) })
      } else {
        (shape, values) = try file.readFloats("params/\(name)")
      }
      guard shape == p.shape else { throw PicassoError.file(path, "'params/\(name)' has shape \(shape), expected \(p.shape)") }
      values.withUnsafeBufferPointer { p.data.update(from: $0.baseAddress!, count: p.count) }
    }
    for (name, keyPath) in [("train", \StyleModel.trainHistory), ("val", \StyleModel.valHistory)] where file.exists("history/\(name)") {
      let (shape, rows) = try file.readFloats("history/\(name)")
      guard shape.count == 2, shape[1] == 5 || shape[0] == 0 else { throw PicassoError.file(path, "'history/\(name)' has shape \(shape)") }
      model[keyPath: keyPath] = (0..<shape[0]).map { i in
        var r = LossReport()
        (r.content, r.style, r.tv, r.total) = (Double(rows[5 * i + 1]), Double(rows[5 * i + 2]), Double(rows[5 * i + 3]), Double(rows[5 * i + 4]))
        return Record(iteration: Int(rows[5 * i]), losses: r)
      }
    }
    if file.exists("checkpoint") {
      let iteration = Int(try file.number("iteration", of: "checkpoint"))
      let rng = UInt64(try file.string("rng", of: "checkpoint")) ?? 0
      let t = Int(try file.number("adam_t", of: "checkpoint"))
      var m: [Tensor] = [], v: [Tensor] = []
      if t > 0 {
        for name in model.net.parameterNames {
          let (ms, mv) = try file.readFloats("checkpoint/adam_m/\(name)")
          let (_, vv) = try file.readFloats("checkpoint/adam_v/\(name)")
          m.append(Tensor(shape: ms, values: mv))
          v.append(Tensor(shape: ms, values: vv))
        }
      }
      model.checkpoint = Checkpoint(iteration: iteration, rngState: rng, adamT: t, adamM: m, adamV: v)
    }
    return model
  }
}
