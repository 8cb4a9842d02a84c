/// The image transformation network of Johnson, Alahi & Fei-Fei (2016) with Ulyanov's
/// instance norm, laid out as pytorch/examples' fast_neural_style TransformerNet:
///
///   9×9 conv 3→w₁, IN, ReLU;  3×3 conv w₁→w₂ stride 2, IN, ReLU;  3×3 conv w₂→w₃ stride 2, IN, ReLU;
///   `blocks` × residual [3×3 conv, IN, ReLU, 3×3 conv, IN] + x;
///   ×2 nearest upsample, 3×3 conv w₃→w₂, IN, ReLU;  ×2 nearest upsample, 3×3 conv w₂→w₁, IN, ReLU;
///   9×9 conv w₁→3 (output not clamped).
/// Every conv pads by reflection (k/2). Widths (w₁, w₂, w₃) default to (32, 64, 128) and
/// blocks to 5: 1,679,235 parameters.
public final class TransformerNet: Layer {
  public struct Architecture: Codable, Equatable, Sendable {
    public var widths: [Int]
    public var blocks: Int
    public init(widths: [Int] = [32, 64, 128], blocks: Int = 5) {
      precondition(widths.count == 3 && widths.allSatisfy { $0 > 0 } && blocks >= 0)
      self.widths = widths
      self.blocks = blocks
    }
  }

  public let architecture: Architecture
  public let network: Sequential
  let workspace = Workspace()

  public init(_ architecture: Architecture = Architecture()) {
    self.architecture = architecture
    let (w1, w2, w3) = (architecture.widths[0], architecture.widths[1], architecture.widths[2])
    let ws = workspace
    func conv(_ i: Int, _ o: Int, _ k: Int, stride: Int = 1) -> Conv2D {
      Conv2D(i, o, kernel: k, stride: stride, padding: .reflect, workspace: ws)
    }
    var layers: [Layer] = [
      conv(3, w1, 9), InstanceNorm(w1), ReLU(),
      conv(w1, w2, 3, stride: 2), InstanceNorm(w2), ReLU(),
      conv(w2, w3, 3, stride: 2), InstanceNorm(w3), ReLU(),
    ]
    for _ in 0..<architecture.blocks {
      layers.append(Residual(Sequential([conv(w3, w3, 3), InstanceNorm(w3), ReLU(), conv(w3, w3, 3), InstanceNorm(w3)])))
    }
    layers += [
      Upsample2x(), conv(w3, w2, 3), InstanceNorm(w2), ReLU(),
      Upsample2x(), conv(w2, w1, 3), InstanceNorm(w1), ReLU(),
      conv(w1, 3, 9),
    ]
    network = Sequential(layers)
  }

  public func forward(_ x: Tensor) -> Tensor { network.forward(x) }
  public func backward(_ x: Tensor, _ dy: Tensor) -> Tensor { network.backward(x, dy) }
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
