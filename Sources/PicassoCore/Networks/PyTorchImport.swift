import Foundation

extension StyleModel {
  /// A model from the state dict of pytorch/examples' fast_neural_style `TransformerNet`
  /// (the layout `TransformerNet` follows; widths and the number of residual blocks are read
  /// from the shapes).
  ///
  /// Names: each conv's parameters sit one level deeper there (`conv1.conv2d.weight` is
  /// `conv1.weight` here; likewise `res1.conv1.conv2d.*`, `deconv1.conv2d.*`); instance norms
  /// match. The running statistics old PyTorch versions saved (`in1.running_mean`, …) are
  /// unused there too and are skipped.
  ///
  /// Ranges: that network takes 0–255 and gives 0–255; here the photo is in [0, 1] and the
  /// output scale is 1/255. So the first conv's weights are multiplied by 255 and the last
  /// conv is kept as it is: the same picture, to float rounding.
  ///
  /// Any other key, a missing one, or a shape that does not fit is an error naming the first
  /// such key.
  public static func fromPyTorch(_ dict: TorchStateDict, source: String) throws -> StyleModel {
    func theirName(_ ours: String) -> String {
      var parts = ours.split(separator: ".").map(String.init)
      let layer = parts[parts.count - 2]
      if layer.hasPrefix("conv") || layer.hasPrefix("deconv") { parts.insert("conv2d", at: parts.count - 1) }
      return parts.joined(separator: ".")
    }
    func width(_ key: String) throws -> Int {
      guard let e = dict[key], e.shape.count == 4 else {
        throw PicassoError.file(source, "no 4-D '\(key)': not a pytorch/examples fast_neural_style TransformerNet state dict")
      }
      return e.shape[0]
    }
    let widths = [try width("conv1.conv2d.weight"), try width("conv2.conv2d.weight"), try width("conv3.conv2d.weight")]
    guard widths.allSatisfy({ (1...1024).contains($0) }) else { throw PicassoError.file(source, "unsupported widths \(widths)") }
    var blocks = 0
    while dict["res\(blocks + 1).conv1.conv2d.weight"] != nil && blocks < 64 { blocks += 1 }

    let architecture = TransformerNet.Architecture(widths: widths, blocks: blocks)
    // The same cap as StyleModel.load, before anything is allocated.
    guard architecture.parameterCount <= 1 << 26 else {
      throw PicassoError.file(source, "a network of widths \(widths) and \(blocks) blocks has more than \(1 << 26) parameters")
    }
    var settings = Settings()
    settings.architecture = architecture
    settings.importedFrom = (source as NSString).lastPathComponent
    settings.styleSize = [0, 0]
    settings.iterations = 0
    let model = StyleModel(settings: settings)
    let net = model.net
    var expected: [String: Tensor] = [:]
    for (name, p) in zip(net.parameterNames, net.parameters) { expected[theirName(name)] = p }

    let unused = try NSRegularExpression(pattern: #"(^|\.)in\d+\.running_(mean|var)$"#)
    var filled = Set<String>()
    for entry in dict.entries {
      let range = NSRange(entry.name.startIndex..., in: entry.name)
      if unused.firstMatch(in: entry.name, range: range) != nil { continue }
      guard let p = expected[entry.name] else {
        throw PicassoError.file(source, "'\(entry.name)' (shape \(entry.shape)) is not a parameter of a fast_neural_style TransformerNet \(widths), \(blocks) residual blocks")
      }
      guard entry.shape == p.shape else {
        throw PicassoError.file(source, "'\(entry.name)' has shape \(entry.shape), expected \(p.shape)")
      }
      entry.values.withUnsafeBufferPointer { p.data.update(from: $0.baseAddress!, count: p.count) }
      filled.insert(entry.name)
    }
    for name in net.parameterNames.map(theirName) where !filled.contains(name) {
      throw PicassoError.file(source, "'\(name)' is missing (shape \(expected[name]!.shape))")
    }
    let first = expected["conv1.conv2d.weight"]!
    for i in 0..<first.count { first.data[i] *= 255 }
    return model
  }
}
