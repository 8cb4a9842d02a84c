/// The VGG16/VGG19 loss network (Simonyan & Zisserman 2014) with the original Caffe weights
/// in the Keras "notop" HDF5 layout, as a stack of stages with named taps.
///
/// Input: RGB in [0,1], [N, 3, H, W]. Preprocessing as the weights expect: ×255, RGB→BGR,
/// minus the BGR mean (103.939, 116.779, 123.68). Stages: conv 3×3 zero-pad 1 + ReLU named
/// `reluB_C` after Keras layer `blockB_convC`, and a 2×2 pool `poolB` closing each block.
/// Only the stages up to the deepest tap asked for are built and run.
public final class VGG {
  public enum Architecture: String, Sendable {
    case vgg16, vgg19
    /// Convolutions per block.
    public var blocks: [Int] { self == .vgg16 ? [2, 2, 3, 3, 3] : [2, 2, 4, 4, 4] }
    public var channels: [Int] { [64, 128, 256, 512, 512] }
    /// Every tap name in order: relu1_1 … relu5_4 (VGG19) or relu5_3 (VGG16).
    public var tapNames: [String] {
      blocks.enumerated().flatMap { b, n in (1...n).map { "relu\(b + 1)_\($0)" } }
    }
  }

  struct Stage {
    let name: String
    let layer: Layer
  }

  public let architecture: Architecture
  public let pooling: Pool2D.Kind
  let stages: [Stage]
  let workspace = Workspace()
  private var preprocessed: Tensor?
  private var inputGradient: Tensor?
  private var tapScratch: [Int: Tensor] = [:]

  /// Loads the convolutions needed for `taps` from a Keras notop weights file (either key
  /// layout: `block1_conv1/block1_conv1_W_1:0` or `block1_conv1/block1_conv1/kernel:0`).
  /// The file is VGG19 if it has `block3_conv4`, VGG16 otherwise.
  public init(weightsFile path: String, taps: [String], pooling: Pool2D.Kind = .max) throws {
    let file = try HDF5File(path)
    let arch: Architecture = file.exists("block3_conv4") ? .vgg19 : .vgg16
    let names = arch.tapNames
    let unknown = taps.filter { !names.contains($0) }
    guard unknown.isEmpty, !taps.isEmpty else {
      throw PicassoError.badInput(
        unknown.isEmpty ? "no VGG layer asked for"
          : "unknown layer \(unknown.map { "'\($0)'" }.joined(separator: ", ")) for \(arch.rawValue.uppercased()); valid layers: \(names.joined(separator: ", "))")
    }
    let deepest = taps.map { names.firstIndex(of: $0)! }.max()!
    self.architecture = arch
    self.pooling = pooling
    var stages: [Stage] = []
    var inChannels = 3
    var built = 0
    outer: for (b, count) in arch.blocks.enumerated() {
      for c in 1...count {
        let keras = "block\(b + 1)_conv\(c)"
        let out = arch.channels[b]
        let conv = Conv2D(inChannels, out, kernel: 3, pad: 1, relu: true, workspace: workspace)
        conv.accumulatesParameterGradients = false
        conv.winogradTile = VGG.winogradTile(outChannels: out)
        try VGG.load(conv, keras, from: file)
        stages.append(Stage(name: "relu\(b + 1)_\(c)", layer: conv))
        inChannels = out
        built += 1
        if built > deepest { break outer }
      }
      stages.append(Stage(name: "pool\(b + 1)", layer: Pool2D(pooling)))
    }
    self.stages = stages
  }

  /// The vector level of every conv's own kernels (`Conv2D.vectorLevel`).
  public var vectorLevel = VectorLevel.best {
    didSet { for case let conv as Conv2D in stages.map(\.layer) { conv.vectorLevel = vectorLevel } }
  }

  /// F(4×4) for the convs to at most 128 channels (blocks 1 and 2, the large maps, whose
  /// GEMMs are thinnest), F(2×2) deeper. Measured in one run (picasso bench, min of 3): the
  /// training step 5.45 → 4.95 s, Gatys at 512² 2.96 → 2.81 s; F(4×4) on every conv made the
  /// training step slower (5.89 s: its 36 GEMMs per band are small on maps of 64² and 32²)
  /// and moved the Gatys gradient by 2.6e-3 of its largest element against the float64
  /// fixture. With blocks 1–2 only, that difference is 1.6e-6 (F(2×2) everywhere: 4.3e-7;
  /// the test allows 1e-4).
  static func winogradTile(outChannels: Int) -> WinogradTile { outChannels <= 128 ? .f4 : .f2 }

  /// Reads one conv layer's kernel (HWIO [3,3,in,out] → OIHW) and bias.
  private static func load(_ conv: Conv2D, _ keras: String, from file: HDF5File) throws {
    let legacy = "\(keras)/\(keras)_W_1:0"
    let modern = "\(keras)/\(keras)/kernel:0"
    let kernelPath = file.exists(legacy) ? legacy : modern
    let biasPath = file.exists(legacy) ? "\(keras)/\(keras)_b_1:0" : "\(keras)/\(keras)/bias:0"
    guard file.exists(kernelPath) else {
      throw HDF5Error(file: file.path, message: "missing '\(legacy)' (or '\(modern)'): not a Keras VGG notop weights file")
    }
    let (shape, hwio) = try file.readFloats(kernelPath)
    let (o, i) = (conv.outChannels, conv.inChannels)
    guard shape == [3, 3, i, o] else {
      throw HDF5Error(file: file.path, message: "'\(kernelPath)' has shape \(shape), expected [3, 3, \(i), \(o)]")
    }
    let (bshape, bias) = try file.readFloats(biasPath)
    guard bshape == [o] else {
      throw HDF5Error(file: file.path, message: "'\(biasPath)' has shape \(bshape), expected [\(o)]")
    }
    let w = conv.weight.data
    for ky in 0..<3 { for kx in 0..<3 { for ci in 0..<i { for co in 0..<o {
      w[((co * i + ci) * 3 + ky) * 3 + kx] = hwio[((ky * 3 + kx) * i + ci) * o + co]
    } } } }
    conv.bias.copy(from: Tensor(shape: [o], values: bias))
  }

  /// The tap names this network can produce (those it built).
  public var availableTaps: [String] { stages.map(\.name).filter { $0.hasPrefix("relu") } }

  /// Runs the network on RGB images in [0,1] up to the deepest of `taps` and returns those
  /// activations (buffers owned by the network, valid until the next forward).
  public func forward(_ image: Tensor, taps: Set<String>) -> [String: Tensor] {
    precondition(image.shape.count == 4 && image.c == 3, "VGG input must be [N, 3, H, W], got \(image.shape).")
    let last = stages.lastIndex { taps.contains($0.name) } ?? -1
    var x = preprocess(image)
    var result: [String: Tensor] = [:]
    if last < 0 { return result }
    for i in 0...last {
      x = stages[i].layer.forward(x)
      stageOutputs[i] = x
      if taps.contains(stages[i].name) { result[stages[i].name] = x }
    }
    return result
  }

  /// dLoss/dImage given dLoss/dTap for the taps of the last `forward` (the image must be
  /// the one given to it). The tap gradients are not modified.
  public func backward(_ image: Tensor, tapGradients: [String: Tensor]) -> Tensor {
    let last = stages.lastIndex { tapGradients[$0.name] != nil } ?? -1
    var grad: Tensor? = nil
    var i = last
    while i >= 0 {
      if let g = tapGradients[stages[i].name] {
        if let existing = grad {
          existing.add(g)
        } else {
          let scratch = Tensor.reuse(tapScratch[i], shape: g.shape)
          tapScratch[i] = scratch
          scratch.copy(from: g)
          grad = scratch
        }
      }
      let input = i == 0 ? preprocessed! : stageOutputs[i - 1]!
      grad = stages[i].layer.backward(input, grad!)
      i -= 1
    }
    let dx = Tensor.reuse(inputGradient, shape: image.shape)
    inputGradient = dx
    dx.fill(0)
    guard let gv = grad else { return dx }
    // v[bgr c] = 255·x[rgb 2−c] − mean  ⇒  dx[rgb c] = 255·dv[bgr 2−c]
    let plane = image.h * image.w
    for n in 0..<image.n {
      for c in 0..<3 {
        let src = gv.data + (n * 3 + (2 - c)) * plane
        let dst = dx.data + (n * 3 + c) * plane
        for j in 0..<plane { dst[j] = 255 * src[j] }
      }
    }
    return dx
  }

  /// The output of stage i in the last forward (a buffer the layer owns): stage i+1's input.
  private var stageOutputs: [Int: Tensor] = [:]

  static let bgrMean: [Float] = [103.939, 116.779, 123.68]

  private func preprocess(_ image: Tensor) -> Tensor {
    let v = Tensor.reuse(preprocessed, shape: image.shape)
    preprocessed = v
    let plane = image.h * image.w
    for n in 0..<image.n {
      for c in 0..<3 {
        let src = image.data + (n * 3 + (2 - c)) * plane
        let dst = v.data + (n * 3 + c) * plane
        let mean = VGG.bgrMean[c]
        for j in 0..<plane { dst[j] = 255 * src[j] - mean }
      }
    }
    return v
  }
}

extension VGG {
  /// Floating-point operations (2 per multiply-add) of the built convolutions' forward pass
  /// on one H×W image, up to and including the stage named `deepest` (default: all built).
  public func forwardFLOP(height: Int, width: Int, upTo deepest: String? = nil) -> Double {
    var (h, w) = (height, width)
    var total = 0.0
    for stage in stages {
      if let conv = stage.layer as? Conv2D {
        total += 2 * Double(conv.outChannels * conv.inChannels * 9 * h * w)
      } else {
        (h, w) = (h / 2, w / 2)
      }
      if stage.name == deepest { break }
    }
    return total
  }
}
