import ArgumentParser
import Foundation
import PicassoCore
import PicassoONNX

struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a model's network as ONNX, for onnxruntime, browsers and phones.",
    discussion: """
      The file holds the transformation network and its weights (opset \(ONNXExport.opset)). \
      Input 'image': float32 [N, 3, H, W], RGB in [0, 1]. Output 'stylized': float32 \
      [N, 3, H, W], RGB in [0, 1], what picasso stylize writes before it rounds to 8 bits. \
      N, H and W are free: the graph pads the photo to multiples of 4 and crops back, as \
      picasso stylize does. Scripts/check-onnx.sh runs every bundled model in onnxruntime against \
      picasso stylize.

      Example:
        picasso export --onnx starry_night.onnx Models/starry_night.h5
      """)

  @Option(help: ArgumentHelp("The ONNX file to write.", valueName: "file"))
  var onnx: String

  @Argument(help: "The model (from picasso train or picasso import).")
  var model: String

  func run() throws {
    try reportingErrors {
      try checkWritableFile(onnx)
      let styleModel = try StyleModel.load(model)
      let data = try ONNXExport.serialize(styleModel, producerVersion: PicassoVersion.string)
      try replaceAtomically(onnx) { temporary in
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
          throw PicassoError.file(onnx, "cannot write here (permission denied or disk full?)")
        }
      }
      printErr(String(format: "export: %@ (%.1f MB, ONNX opset %d, input 'image' and output 'stylized': [N, 3, H, W] RGB in [0, 1])",
                      onnx, Double(data.count) / 1e6, Int(ONNXExport.opset)))
    }
  }
}

struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Read a fast_neural_style model from PyTorch (.pth) into a picasso model.",
    discussion: """
      Reads the state dict of pytorch/examples' fast_neural_style TransformerNet (the \
      pretrained candy, mosaic, rain_princess and udnie models, and others in that layout), \
      as torch.save writes it (zip, or the legacy format), without PyTorch. Its 0–255 input \
      and output ranges are mapped onto picasso's [0, 1]; the widths and residual blocks come \
      from the shapes. The painting and loss settings are not in a state dict: picasso models \
      says so, and picasso compare needs --style.

      A pickle can run code when Python loads it; this reader runs none and refuses any file \
      that names something a state dict does not need. Nothing is written when the file does \
      not fit.

      Example:
        picasso import --pytorch candy.pth --output Models/candy.h5
      """)

  @Option(help: ArgumentHelp("The PyTorch state dict.", valueName: "file"))
  var pytorch: String

  @Option(help: "The model file to write.")
  var output: String

  @Flag(help: "Store the weights in half precision (half the size; the renders differ by a fraction of an 8-bit level).")
  var float16 = false

  func run() throws {
    try reportingErrors {
      try checkWritableFile(output)
      let dict = try TorchStateDict.read(pytorch)
      let model = try StyleModel.fromPyTorch(dict, source: pytorch)
      try model.save(to: output, float16: float16)
      printErr("import: \(output): \(model.settings.architecture.string), \(model.net.parameterCount) parameters, from \(pytorch)")
    }
  }
}
