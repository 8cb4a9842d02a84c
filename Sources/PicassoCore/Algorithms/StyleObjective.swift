/// The perceptual objective of Gatys et al. (2015), shared by `optimize`, `train` and
/// `compare`: content loss at the content layers, style loss against blended Gram targets
/// at the style layers, and total variation, each reported unweighted and summed weighted:
///   total = contentWeight·content + styleWeight·style + tvWeight·tv.
public struct LossWeights: Codable, Equatable, Sendable {
  public var content: Float
  public var style: Float
  public var tv: Float
  public init(content: Float, style: Float, tv: Float) {
    self.content = content
    self.style = style
    self.tv = tv
  }
}

/// One evaluation's losses.
public struct LossReport: Codable, Equatable, Sendable {
  public var content = 0.0
  public var style = 0.0
  public var styleByLayer: [String: Double] = [:]
  public var tv = 0.0
  public var total = 0.0
  public init() {}
}

public final class StyleObjective {
  public let vgg: VGG
  public let contentLayers: [String]
  public let styleLayers: [String]
  public let styleLayerWeights: [Float]
  public let weights: LossWeights
  /// Content targets per layer (P), and blended Gram targets per layer, [C, C].
  public private(set) var contentTargets: [String: Tensor] = [:]
  public let styleTargets: [String: Tensor]

  private let styleLosses: [String: StyleLoss]
  private var tapGradients: [String: Tensor] = [:]

  /// - Parameters:
  ///   - styles: style images [1, 3, H, W] (any sizes) with blend weights (normalised to sum 1).
  ///   - styleLayerWeights: one weight per style layer (default 1 each).
  public init(
    vgg: VGG, styles: [(image: Tensor, weight: Float)], contentLayers: [String], styleLayers: [String],
    styleLayerWeights: [Float]? = nil, weights: LossWeights
  ) {
    precondition(!styles.isEmpty, "At least one style image.")
    self.vgg = vgg
    self.contentLayers = contentLayers
    self.styleLayers = styleLayers
    self.styleLayerWeights = styleLayerWeights ?? styleLayers.map { _ in 1 }
    precondition(self.styleLayerWeights.count == styleLayers.count, "One weight per style layer.")
    self.weights = weights
    let total = styles.reduce(Float(0)) { $0 + $1.weight }
    var targets: [String: Tensor] = [:]
    let gram = Gram()
    for (image, weight) in styles {
      let acts = vgg.forward(image, taps: Set(styleLayers))
      for layer in styleLayers {
        let g = gram.forward(acts[layer]!)
        let target = targets[layer] ?? Tensor(shape: [g.shape[1], g.shape[2]])
        target.add(g, scaledBy: weight / total)
        targets[layer] = target
      }
    }
    styleTargets = targets
    styleLosses = Dictionary(uniqueKeysWithValues: styleLayers.map { ($0, StyleLoss()) })
  }

  /// Sets the content targets from a content image batch [N, 3, H, W].
  public func setContent(_ image: Tensor) {
    let acts = vgg.forward(image, taps: Set(contentLayers))
    for (layer, a) in acts {
      let target = Tensor.reuse(contentTargets[layer], shape: a.shape)
      target.copy(from: a)
      contentTargets[layer] = target
    }
  }

  /// The losses at images x; with `gradient`, *writes* dTotal/dx into it.
  ///
  /// `share`: x is this fraction of a larger batch (a data-parallel step's part). Content and
  /// style are means over the batch, TV a sum, so the part's gradient of the whole batch's
  /// total scales the content and style terms by `share` and leaves TV as it is; the report
  /// stays the part's own. With share 1 (a whole batch) nothing is scaled.
  public func evaluate(_ x: Tensor, gradient: Tensor? = nil, share: Float = 1) -> LossReport {
    let taps = Set(contentLayers + styleLayers)
    let acts = vgg.forward(x, taps: taps)
    if gradient != nil {
      for (name, a) in acts {
        let g = Tensor.reuse(tapGradients[name], shape: a.shape)
        g.fill(0)
        tapGradients[name] = g
      }
    }
    var report = LossReport()
    for layer in contentLayers {
      let target = contentTargets[layer]!
      precondition(target.shape == acts[layer]!.shape, "Content target \(target.shape) for image \(acts[layer]!.shape).")
      report.content += meanSquaredError(
        acts[layer]!, target, gradient: gradient == nil ? nil : tapGradients[layer], weight: weights.content * share)
    }
    for (k, layer) in styleLayers.enumerated() {
      let lw = styleLayerWeights[k]
      let loss = styleLosses[layer]!(acts[layer]!, target: styleTargets[layer]!,
                                      gradient: gradient == nil ? nil : tapGradients[layer], weight: weights.style * lw * share)
      report.styleByLayer[layer] = loss
      report.style += Double(lw) * loss
    }
    if let gradient {
      gradient.copy(from: vgg.backward(x, tapGradients: tapGradients.filter { taps.contains($0.key) }))
    }
    report.tv = totalVariation(x, gradient: gradient, weight: weights.tv)
    report.total = Double(weights.content) * report.content + Double(weights.style) * report.style
      + Double(weights.tv) * report.tv
    return report
  }
}
