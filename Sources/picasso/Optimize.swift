import ArgumentParser
import Foundation
import PicassoCore

extension GatysOptimization.Method: ExpressibleByArgument {}
extension Pool2D.Kind: ExpressibleByArgument {}

struct Optimize: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Paint a photo in a painting's style by optimising its pixels (Gatys et al. 2015).",
    discussion: """
      Minimises content_weight·content + style_weight·style + tv_weight·tv over the \
      image's pixels, with VGG19 features: content = mean squared feature difference, \
      style = Σ over layers of mean squared Gram difference (Gram = FFᵀ/(C·H·W)), \
      tv = total variation of the RGB [0,1] image. L-BFGS uses a strong-Wolfe line \
      search; Ctrl-C saves the image so far.

      Example:
        picasso optimize --content photo.jpg --style starry_night.jpg --output painted.png
      """
  )

  @Option(help: "The photo to paint.")
  var content: String

  @Option(help: "A painting whose style to take; repeat for several styles.")
  var style: [String]

  @Option(help: "Comma-separated blend weights, one per --style (default: equal).")
  var styleBlend: String?

  @Option(help: "Where to write the result (.png or .jpg).")
  var output: String = "out.png"

  @Option(help: "Long side of the result in pixels.")
  var size: Int = 512

  @Option(help: "Optimiser iterations (L-BFGS updates or Adam steps).")
  var iterations: Int = 200

  @Option(help: "lbfgs (strong-Wolfe line search) or adam.")
  var optimizer: GatysOptimization.Method = .lbfgs

  @Option(help: "Learning rate (default: 1 for L-BFGS, 0.02 for Adam).")
  var learningRate: Double?

  @Option(help: "L-BFGS history size (pairs kept).")
  var history: Int = 100

  @Option(help: "Weight of the content loss.")
  var contentWeight: Float = Defaults.contentWeight

  @Option(help: "Weight of the style loss.")
  var styleWeight: Float = Defaults.styleWeight

  @Option(help: "Weight of the total-variation loss.")
  var tvWeight: Float = Defaults.tvWeight

  @Option(help: "Comma-separated VGG layers for the content loss.")
  var contentLayers: String = "relu4_2"

  @Option(help: "Comma-separated VGG layers for the style loss.")
  var styleLayers: String = "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1"

  @Option(help: "Comma-separated weights, one per style layer (default: 1 each).")
  var styleLayerWeights: String?

  @Option(name: .customLong("init"), help: "Starting image: content, random, or the path of an image.")
  var initialization: String = "content"

  @Option(help: "Random seed of --init random (default: 0).")
  var seed: UInt64?

  @Option(help: "Scale of the style image relative to --size.")
  var styleScale: Double = 1

  @Option(help: "VGG pooling: max or avg.")
  var pooling: Pool2D.Kind = .max

  @Flag(help: "Keep the photo's colours: take only the luminance of the result.")
  var preserveColor = false

  @Option(help: "Also write the image every N iterations (OUTPUT_<iteration>.png); 0: never.")
  var saveEvery: Int = 0

  @Option(help: "Print a progress line every N iterations.")
  var printEvery: Int = 10

  @Option(help: "JPEG quality for .jpg outputs (1-100).")
  var quality: Int = 92

  @Option(help: "The VGG19 (or VGG16) weights, Keras notop HDF5 (default: Models/vgg19.h5).")
  var vgg: String?

  @Flag(help: "Print one JSON object with the losses and timing at the end.")
  var json = false

  @OptionGroup var imageLimit: ImageLimit

  func validate() throws {
    guard !style.isEmpty else { throw ValidationError("Give at least one --style painting.") }
    guard (16...8192).contains(size) else {
      throw ValidationError("--size must be between 16 and 8192 pixels, not \(size).")
    }
    guard iterations >= 0 else { throw ValidationError("--iterations must be 0 or more.") }
    guard history >= 1 else { throw ValidationError("--history must be at least 1.") }
    guard seed == nil || initialization == "random" else { throw ValidationError("--seed applies only to --init random.") }
    guard styleScale > 0 && styleScale <= 8 else { throw ValidationError("--style-scale must be in (0, 8].") }
    guard (1...100).contains(quality) else { throw ValidationError("--quality must be between 1 and 100.") }
    if let blend = styleBlend {
      let parts = commaList(blend)
      guard parts.count == style.count, parts.allSatisfy({ (Float($0) ?? -1) >= 0 }) else {
        throw ValidationError("--style-blend needs \(style.count) non-negative numbers, one per --style.")
      }
    }
  }

  func run() throws {
    imageLimit.apply()
    try reportingErrors(optimize)
  }

  private func optimize() throws {
    try checkWritableImagePath(output)
    let contentLayerList = commaList(contentLayers), styleLayerList = commaList(styleLayers)
    let layerWeights = try styleLayerWeights.map { s -> [Float] in
      let w = commaList(s).compactMap(Float.init)
      guard w.count == styleLayerList.count else {
        throw PicassoError.badInput("--style-layer-weights needs \(styleLayerList.count) numbers, one per style layer")
      }
      return w
    }
    let vggPath = try locateVGG(vgg)

    // Images: the photo at --size, each painting at --size × --style-scale.
    let photo = try RGBImage.read(content).resized(longSide: size)
    let styleSide = max(16, Int((Double(size) * styleScale).rounded()))
    let paintings = try style.map { try RGBImage.read($0).resized(longSide: styleSide) }
    let blend = styleBlend.map { commaList($0).compactMap(Float.init) } ?? style.map { _ in 1 }
    guard blend.reduce(0, +) > 0 else { throw PicassoError.badInput("--style-blend weights sum to 0") }

    let start = Date()
    let net = try VGG(weightsFile: vggPath, taps: contentLayerList + styleLayerList, pooling: pooling)
    let objective = StyleObjective(
      vgg: net, styles: zip(paintings, blend).map { ($0.tensor(), $1) },
      contentLayers: contentLayerList, styleLayers: styleLayerList, styleLayerWeights: layerWeights,
      weights: LossWeights(content: contentWeight, style: styleWeight, tv: tvWeight))
    let contentTensor = photo.tensor()
    objective.setContent(contentTensor)

    let image = try initialImage(initialization, content: contentTensor, width: photo.width, height: photo.height, seed: seed ?? 0)

    let lr = learningRate ?? (optimizer == .lbfgs ? 1 : 0.02)
    let run = GatysOptimization(objective: objective, image: image, method: optimizer, learningRate: lr, history: history)
    if !json || printEvery > 0 {
      printErr("optimize: \(photo.width)×\(photo.height), \(optimizer.rawValue), \(iterations) iterations; initial loss \(fmt(run.initialLosses.total))")
    }
    let loopStart = Date()
    Interrupt.install()
    for it in 1...max(iterations, 1) where iterations > 0 {
      if Interrupt.requested {
        try save(run.image, photo: photo, to: output)
        printErr("optimize: interrupted after \(it - 1) iterations; wrote the image so far to \(output)")
        throw ExitCode(130)
      }
      let l = run.step()
      let elapsed = Date().timeIntervalSince(loopStart)
      if printEvery > 0 && (it % printEvery == 0 || it == iterations) {
        printErr(String(
          format: "iter %5d/%d  total %@  content %@  style %@  tv %@  evals %d  %.2f it/s",
          it, iterations, fmt(l.total), fmt(l.content), fmt(l.style), fmt(l.tv), run.evaluations,
          Double(it) / max(elapsed, 1e-9)))
      }
      if saveEvery > 0 && it % saveEvery == 0 && it < iterations {
        try save(run.image, photo: photo, to: intermediatePath(it))
      }
      if run.converged {
        printErr("optimize: L-BFGS converged at iteration \(it)")
        break
      }
    }
    let final = run.finalLosses()
    let seconds = Date().timeIntervalSince(start)
    try save(run.image, photo: photo, to: output)
    if json {
      let result = OptimizeResult(
        iterations: run.iteration, evaluations: run.evaluations, seconds: seconds,
        content_loss: final.content, style_loss: final.style, style_loss_by_layer: final.styleByLayer,
        tv_loss: final.tv, total_loss: final.total, initial_total_loss: run.initialLosses.total,
        width: photo.width, height: photo.height, output: output,
        peak_memory_mb: Double(Measure.peakResidentBytes) / 1048576)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      print(String(decoding: try encoder.encode(result), as: UTF8.self))
    } else {
      printErr(String(format: "optimize: wrote %@ in %.1f s (final loss %@)", output, seconds, fmt(final.total)))
    }
  }

  private func save(_ t: Tensor, photo: RGBImage, to path: String) throws {
    var result = RGBImage(tensor: t)
    if preserveColor { result = result.withColors(of: photo) }
    try result.write(to: path, quality: quality)
  }

  private func intermediatePath(_ it: Int) -> String {
    let ns = output as NSString
    return ns.deletingPathExtension + String(format: "_%05d.", it) + ns.pathExtension
  }
}

struct OptimizeResult: Encodable {
  var iterations: Int
  var evaluations: Int
  var seconds: Double
  var content_loss: Double
  var style_loss: Double
  var style_loss_by_layer: [String: Double]
  var tv_loss: Double
  var total_loss: Double
  var initial_total_loss: Double
  var width: Int
  var height: Int
  var output: String
  var peak_memory_mb: Double
}

enum Defaults {
  static let contentWeight: Float = 1
  static let styleWeight: Float = 200
  static let tvWeight: Float = 10
}

func fmt(_ x: Double) -> String { String(format: "%.4g", x) }
