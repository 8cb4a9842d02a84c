import Foundation

/// The image transformation network of Johnson, Alahi & Fei-Fei (2016) with Ulyanov's
/// instance norm, laid out as pytorch/examples' fast_neural_style TransformerNet:
///
///   9×9 conv 3→w₁, IN, ReLU;  3×3 conv w₁→w₂ stride 2, IN, ReLU;  3×3 conv w₂→w₃ stride 2, IN, ReLU;
///   `blocks` × residual [3×3 conv, IN, ReLU, 3×3 conv, IN] + x;
///   ×2 nearest upsample, 3×3 conv w₃→w₂, IN, ReLU;  ×2 nearest upsample, 3×3 conv w₂→w₁, IN, ReLU;
///   9×9 conv w₁→3, × outputScale (output not clamped).
///   (each IN and the ReLU after it run as one layer, `InstanceNorm(relu: true)`)
/// The output scale is 1/255 for trained models: the last conv works in 0–255 units, as in
/// pytorch/examples (whose network outputs 0–255) and fast-neural-style. With Adam a
/// parameter step is about the learning rate whatever the gradient's scale, so a conv writing
/// [0, 1] directly (scale 1) moves the picture 255 times as far per step: trained at lr 1e-3 it
/// stayed noisy and streaked for 500 iterations. Scale 1 is the fixtures' network.
/// Every conv pads by reflection (k/2). Widths (w₁, w₂, w₃) default to (32, 64, 128) and
/// blocks to 5: 1,679,235 parameters.
public final class TransformerNet: Layer {
  public struct Architecture: Codable, Equatable, Sendable {
    public var widths: [Int]
    public var blocks: Int
    /// The factor on the last conv's output.
    public var outputScale: Float
    public init(widths: [Int] = [32, 64, 128], blocks: Int = 5, outputScale: Float = 1 / 255) {
      precondition(widths.count == 3 && widths.allSatisfy { $0 > 0 } && blocks >= 0 && outputScale > 0)
      self.widths = widths
      self.blocks = blocks
      self.outputScale = outputScale
    }

    /// The number of parameters, from the shapes alone (no network is built).
    public var parameterCount: Int {
      let (w1, w2, w3) = (widths[0], widths[1], widths[2])
      func conv(_ i: Int, _ o: Int, _ k: Int) -> Int { o * i * k * k + o }
      let front = conv(3, w1, 9) + conv(w1, w2, 3) + conv(w2, w3, 3) + 2 * (w1 + w2 + w3)
      let block = 2 * (conv(w3, w3, 3) + 2 * w3)
      let back = conv(w3, w2, 3) + 2 * w2 + conv(w2, w1, 3) + 2 * w1 + conv(w1, 3, 9)
      return front + blocks * block + back
    }

    /// fast-neural-style's `-arch` notation for this network: `c9s1-32,d64,d128,R128,R128,R128,R128,R128,u64,u32,c9s1-3`
    /// (cK s1-W: K×K stride-1 conv to W channels; dW: stride-2 3×3 conv; RW: residual block; uW: ×2 upsample + 3×3 conv).
    public var string: String {
      let (w1, w2, w3) = (widths[0], widths[1], widths[2])
      return (["c9s1-\(w1)", "d\(w2)", "d\(w3)"] + Array(repeating: "R\(w3)", count: blocks) + ["u\(w2)", "u\(w1)", "c9s1-3"])
        .joined(separator: ",")
    }

    /// Parses the notation of `string`. Only this network's shape is supported (the widths and
    /// the number of residual blocks are free); anything else is an error that says what is expected.
    public init(string: String) throws {
      let parts = string.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
      func width(_ part: String, _ prefix: String) -> Int? {
        guard part.hasPrefix(prefix), let w = Int(part.dropFirst(prefix.count)), (1...1024).contains(w) else { return nil }
        return w
      }
      let expected = "expected c9s1-W1,dW2,dW3,RW3 (repeated),uW2,uW1,c9s1-3, for example \(Architecture().string)"
      guard parts.count >= 6, let w1 = width(parts[0], "c9s1-"), let w2 = width(parts[1], "d"), let w3 = width(parts[2], "d"),
        width(parts[parts.count - 3], "u") == w2, width(parts[parts.count - 2], "u") == w1, parts[parts.count - 1] == "c9s1-3"
      else { throw PicassoError.badInput("unsupported architecture \"\(string)\": \(expected)") }
      let residual = parts[3..<(parts.count - 3)]
      guard residual.allSatisfy({ width($0, "R") == w3 }) else {
        throw PicassoError.badInput("unsupported architecture \"\(string)\": every residual block must be R\(w3); \(expected)")
      }
      self.init(widths: [w1, w2, w3], blocks: residual.count)
    }
  }

  public let architecture: Architecture
  public let network: Sequential
  let workspace = Workspace()

  /// The Winograd variant of the 3×3 stride-1 convs. F(2×2) for training: with F(4×4) the
  /// fixture's training step moved the first instance norm's scale gradient by 1.9e-4 (F(2×2):
  /// 3.2e-5; the test allows 1e-4). `Stylizer` sets F(4×4), for rendering: measured in one
  /// run (picasso bench, min of 3), forward at 1024² 2.95–3.33 s with F(2×2), 2.51–2.56 s
  /// with F(4×4), outputs within 1e-5 of the im2col reference.
  public var winogradTile = WinogradTile.f2 {
    didSet { for case let conv as Conv2D in allLayers { conv.winogradTile = winogradTile } }
  }

  /// The vector level of every conv's and instance norm's own kernels (`Conv2D.vectorLevel`,
  /// `InstanceNorm.vectorLevel`).
  public var vectorLevel = VectorLevel.best {
    didSet {
      for layer in allLayers {
        (layer as? Conv2D)?.vectorLevel = vectorLevel
        (layer as? InstanceNorm)?.vectorLevel = vectorLevel
      }
    }
  }

  /// Rendering only: each ×2 upsample and the 3×3 conv after it run as one conv on the small
  /// map (`upsampleConv3x3`, 4/9 of the multiplications, the same output within float
  /// rounding). Off for training (no backward pass); `Stylizer` turns it on.
  public var foldsUpsampling = false {
    didSet {
      let layers = network.layers
      for (up, conv) in zip(layers, layers.dropFirst()) {
        guard let up = up as? Upsample2x, let conv = conv as? Conv2D else { continue }
        up.passesThrough = foldsUpsampling
        conv.upsamplesInput = foldsUpsampling
      }
    }
  }

  public init(_ architecture: Architecture = Architecture()) {
    self.architecture = architecture
    let (w1, w2, w3) = (architecture.widths[0], architecture.widths[1], architecture.widths[2])
    let ws = workspace
    func conv(_ i: Int, _ o: Int, _ k: Int, stride: Int = 1) -> Conv2D {
      Conv2D(i, o, kernel: k, stride: stride, padding: .reflect, workspace: ws)
    }
    let first = conv(3, w1, 9)
    first.computesInputGradient = false  // its input is the photo
    var layers: [Layer] = [
      first, InstanceNorm(w1, relu: true),
      conv(w1, w2, 3, stride: 2), InstanceNorm(w2, relu: true),
      conv(w2, w3, 3, stride: 2), InstanceNorm(w3, relu: true),
    ]
    for _ in 0..<architecture.blocks {
      layers.append(Residual(Sequential([conv(w3, w3, 3), InstanceNorm(w3, relu: true), conv(w3, w3, 3), InstanceNorm(w3)])))
    }
    layers += [
      Upsample2x(), conv(w3, w2, 3), InstanceNorm(w2, relu: true),
      Upsample2x(), conv(w2, w1, 3), InstanceNorm(w1, relu: true),
      conv(w1, 3, 9), Scale(architecture.outputScale),
    ]
    network = Sequential(layers)
  }

  /// A network with this one's architecture and weights, in training mode: for rendering
  /// (which switches the network it is given, `Stylizer.init`) without touching one that trains.
  public func copy() -> TransformerNet {
    let net = TransformerNet(architecture)
    for (p, q) in zip(net.parameters, parameters) { p.copy(from: q) }
    return net
  }

  public func forward(_ x: Tensor) -> Tensor { network.forward(x) }
  public func backward(_ x: Tensor, _ dy: Tensor) -> Tensor { network.backward(x, dy) }
  public func releaseBuffers() { network.releaseBuffers() }
  /// In the order of pytorch/examples' named_parameters: per conv weight, bias; per IN γ, β.
  public var parameters: [Tensor] { network.parameters }
  public var gradients: [Tensor] { network.gradients }
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

  /// Stable names for the parameters, in `parameters` order, as pytorch/examples names them:
  /// conv1.weight, conv1.bias, in1.weight (γ), in1.bias (β), …, res1.conv1.weight, …,
  /// deconv1.weight, …, deconv3.bias.
  public var parameterNames: [String] {
    func conv(_ n: String) -> [String] { ["\(n).weight", "\(n).bias"] }
    var names = conv("conv1") + conv("in1") + conv("conv2") + conv("in2") + conv("conv3") + conv("in3")
    for b in 1...max(architecture.blocks, 1) where architecture.blocks > 0 {
      names += conv("res\(b).conv1") + conv("res\(b).in1") + conv("res\(b).conv2") + conv("res\(b).in2")
    }
    names += conv("deconv1") + conv("in4") + conv("deconv2") + conv("in5") + conv("deconv3")
    return names
  }
}

extension TransformerNet {
  /// Floating-point operations (2 per multiply-add) of the convolutions in one forward pass
  /// on an H×W image.
  public func forwardFLOP(height: Int, width: Int) -> Double {
    var (h, w) = (height, width)
    var total = 0.0
    for layer in allLayers {
      if let conv = layer as? Conv2D {
        h = (h + 2 * conv.pad - conv.kernel) / conv.stride + 1
        w = (w + 2 * conv.pad - conv.kernel) / conv.stride + 1
        total += 2 * Double(conv.outChannels * conv.inChannels * conv.kernel * conv.kernel * h * w)
      } else if layer is Upsample2x {
        (h, w) = (2 * h, 2 * w)
      }
    }
    return total
  }
}
