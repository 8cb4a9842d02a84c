import Foundation
import PicassoCore
@testable import PicassoONNX
import Testing

/// Models that travel: pytorch/examples state dicts in (against PyTorch's own output, made by
/// Tests/PyTorch/make_fixture.py), ONNX out (its structure here; onnxruntime runs it in
/// Scripts/check-onnx.sh).
@Suite(.serialized)
struct ExchangeTests {
  static let folder = Paths.root + "/Tests/PyTorch"

  /// Little-endian float32s (copied: `Data` need not be aligned).
  static func floats(_ data: Data) -> [Float] {
    var values = [Float](repeating: 0, count: data.count / 4)
    _ = values.withUnsafeMutableBytes { data.copyBytes(to: $0) }
    return values
  }

  /// PyTorch's output for input.png (0–255 units, [3, H, W]) in [0, 1].
  static func pytorchOutput(_ name: String) throws -> [Float] {
    let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/output_\(name).f32"))
    return floats(data).map { $0 / 255 }
  }

  /// Imports `file`, renders input.png, and returns the largest difference from PyTorch's
  /// output, unclamped and as stylize's 8-bit picture.
  static func difference(_ file: String, _ output: String) throws -> (raw: Float, bytes: Int, model: StyleModel) {
    let model = try StyleModel.fromPyTorch(try TorchStateDict.read("\(folder)/\(file)"), source: file)
    let photo = try RGBImage.read("\(folder)/input.png")
    let stylizer = Stylizer(net: model.net)
    stylizer.margin = 0  // PyTorch's fast-neural-style runs the network on the photo as it is
    let ours = stylizer.outputTensor(photo)
    let theirs = try pytorchOutput(output)
    #expect(theirs.count == ours.count)
    var raw: Float = 0
    for i in 0..<min(ours.count, theirs.count) { raw = max(raw, abs(ours.data[i] - theirs[i])) }
    let picture = stylizer.render(photo)
    let plane = photo.width * photo.height
    var bytes = 0
    for i in 0..<plane {
      for c in 0..<3 {
        let expected = Int((min(max(theirs[c * plane + i], 0), 1) * 255).rounded())
        bytes = max(bytes, abs(Int(picture.pixels[3 * i + c]) - expected))
      }
    }
    return (raw, bytes, model)
  }

  @Test func zipStateDictRendersAsPyTorch() throws {
    let (raw, bytes, model) = try Self.difference("transformer_net.pth", "net")
    #expect(model.settings.architecture == TransformerNet.Architecture())
    #expect(raw <= 1.0 / 255, "largest difference \(raw)")
    #expect(bytes <= 1)
  }

  @Test(arguments: ["transformer_small.pth", "transformer_small_legacy.pth"])
  func smallStateDictRendersAsPyTorch(file: String) throws {
    let (raw, bytes, model) = try Self.difference(file, "small")
    #expect(model.settings.architecture == TransformerNet.Architecture(widths: [8, 16, 32], blocks: 2))
    #expect(raw <= 1.0 / 255, "largest difference \(raw)")
    #expect(bytes <= 1)
  }

  /// The zip and legacy readers give the same tensors for the same state dict.
  @Test func bothFormatsReadAlike() throws {
    let zip = try TorchStateDict.read("\(Self.folder)/transformer_small.pth")
    let legacy = try TorchStateDict.read("\(Self.folder)/transformer_small_legacy.pth")
    #expect(zip.entries.map(\.name) == legacy.entries.map(\.name))
    #expect(zip.entries.map(\.shape) == legacy.entries.map(\.shape))
    #expect(zip.entries.map(\.values) == legacy.entries.map(\.values))
  }

  /// Both formats carry the same kinds of names; the readers agree on what a state dict is.
  @Test func stateDictNamesAndShapes() throws {
    let dict = try TorchStateDict.read("\(Self.folder)/transformer_small_legacy.pth")
    #expect(dict.entries.first?.name == "conv1.conv2d.weight")
    #expect(dict["conv1.conv2d.weight"]?.shape == [8, 3, 9, 9])
    #expect(dict["res2.in2.bias"]?.shape == [32])
    #expect(dict["deconv3.conv2d.bias"]?.shape == [3])
  }

  /// Other keys, missing keys and wrong shapes: one error naming the first key that does not fit.
  @Test func stateDictsThatDoNotFit() throws {
    let good = try TorchStateDict.read("\(Self.folder)/transformer_small_legacy.pth")
    func expectError(_ dict: TorchStateDict, mentions: [String]) {
      do {
        _ = try StyleModel.fromPyTorch(dict, source: "x.pth")
        Issue.record("accepted a state dict that does not fit: \(mentions)")
      } catch {
        for m in mentions { #expect("\(error)".contains(m), "'\(error)' should mention '\(m)'") }
      }
    }
    var extra = good
    extra.entries.insert(.init(name: "fc.weight", shape: [2, 2], values: [0, 0, 0, 0]), at: 3)
    expectError(extra, mentions: ["'fc.weight'", "not a parameter"])
    var missing = good
    missing.entries.removeAll { $0.name == "in4.bias" }
    expectError(missing, mentions: ["'in4.bias'", "missing"])
    var wrong = good
    let k = wrong.entries.firstIndex { $0.name == "res1.conv2.conv2d.weight" }!
    wrong.entries[k] = .init(name: wrong.entries[k].name, shape: [32, 32, 1, 9], values: wrong.entries[k].values)
    expectError(wrong, mentions: ["'res1.conv2.conv2d.weight'", "[32, 32, 1, 9]", "[32, 32, 3, 3]"])
    var notANetwork = good
    notANetwork.entries.removeAll { $0.name.hasPrefix("conv1.") }
    expectError(notANetwork, mentions: ["conv1.conv2d.weight", "not a pytorch/examples"])
    // The running statistics old PyTorch saved are skipped.
    var old = good
    old.entries.append(.init(name: "res1.in1.running_mean", shape: [32], values: .init(repeating: 0, count: 32)))
    old.entries.append(.init(name: "in1.running_var", shape: [8], values: .init(repeating: 1, count: 8)))
    #expect(throws: Never.self) { try StyleModel.fromPyTorch(old, source: "old.pth") }
  }

  /// A pickle that names os.system (it would run `ls` in Python) is refused by name, and no
  /// model is written.
  @Test func picklesThatCallThingsAreRefused() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    // PROTO 2; GLOBAL os system; BINUNICODE "ls"; TUPLE1; REDUCE; STOP
    let evil: [UInt8] = [0x80, 0x02] + Array("cos\nsystem\n".utf8) + [0x58, 2, 0, 0, 0] + Array("ls".utf8) + [0x85, 0x52, 0x2E]
    let path = dir.file("evil.pth")
    try Data(evil).write(to: URL(fileURLWithPath: path))
    let r = try runPicasso(["import", "--pytorch", path, "--output", dir.file("evil.h5")])
    #expect(r.status == 1)
    let line = errorLine(r)
    #expect(line.contains("os.system") && line.contains("refusing"), "\(r.stderr)")
    #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir.file("evil.h5")))
    // A whole pickled module (torch.save(model)) names its class: refused the same way.
    var unpickler = Unpickler([0x80, 0x02] + Array("c__main__\nTransformerNet\n".utf8) + [0x29, 0x81, 0x2E])
    do {
      _ = try unpickler.load()
      Issue.record("a pickled class was loaded")
    } catch {
      #expect("\(error)".contains("__main__.TransformerNet"), "\(error)")
    }
  }

  /// Hostile pickles: nesting without end, and a value that doubles with every few bytes
  /// through the memo, are refused quickly with a short message.
  @Test func hostilePicklesAreRefusedQuickly() throws {
    let deep: [UInt8] = [0x80, 0x02, 0x4E] + [UInt8](repeating: 0x85, count: 100_000) + [0x2E]
    var reader = Unpickler(deep)
    #expect(throws: Unpickler.Failure.self) { _ = try reader.load() }
    // x = None; 60 times: x = (x, x) through BINPUT/BINGET.
    var doubling: [UInt8] = [0x80, 0x02, 0x4E, 0x71, 0]
    for _ in 0..<60 { doubling += [0x30, 0x68, 0, 0x68, 0, 0x86, 0x71, 0] }  // POP, GET, GET, TUPLE2, PUT
    doubling += [0x2E]
    reader = Unpickler(doubling)
    do {
      _ = try reader.load()
      Issue.record("a 2^60-leaf value was accepted")
    } catch {
      #expect("\(error)".count < 200 && "\(error)".contains("nested"), "\(error)")
    }
  }

  /// Every truncation of a real file is an error, never a crash or a model.
  @Test func truncatedFilesAreErrors() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    for file in ["transformer_small_legacy.pth", "transformer_small.pth"] {
      let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(Self.folder)/\(file)"))
      for fraction in [0.0005, 0.01, 0.3, 0.9, 0.999] {
        let path = dir.file("cut.pth")
        try bytes.prefix(Int(Double(bytes.count) * fraction)).write(to: URL(fileURLWithPath: path))
        #expect(throws: (any Error).self, "\(file) cut at \(fraction)") {
          _ = try StyleModel.fromPyTorch(try TorchStateDict.read(path), source: path)
        }
      }
    }
  }

  /// `picasso import` then `models` (painting unknown), `stylize` and `export`.
  @Test func importCommandMakesAUsableModel() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let model = dir.file("small.h5")
    let r = try runPicasso(["import", "--pytorch", "\(Self.folder)/transformer_small_legacy.pth", "--output", model])
    #expect(r.status == 0, "\(r.stderr)")
    let listed = try runPicasso(["models", model])
    #expect(listed.stdout.contains("imported from transformer_small_legacy.pth") && listed.stdout.contains("unknown"), "\(listed.stdout)")
    let json = try runPicasso(["models", "--json", model])
    #expect(json.stdout.contains("\"imported_from\":\"transformer_small_legacy.pth\""), "\(json.stdout)")
    let painted = try runPicasso(["stylize", "--model", model, "--output-dir", dir.file("out"), "\(Self.folder)/input.png"])
    #expect(painted.status == 0, "\(painted.stderr)")
    let exported = try runPicasso(["export", "--onnx", dir.file("small.onnx"), model])
    #expect(exported.status == 0, "\(exported.stderr)")
    // compare judges it under train's defaults, the painting given by --style at 512 px.
    let compared = try runPicasso(["compare", "--model", model, "--style", "\(Self.folder)/input.png", "--iterations", "1", "--size", "32",
                                   "--output", dir.file("compare.png"), "--json", "\(Self.folder)/input.png"])
    #expect(compared.status == 0 && compared.stdout.contains("\"style_size\":512"), "\(compared.stderr)")
    try expectPicassoError(["import", "--pytorch", dir.file("none.pth"), "--output", dir.file("x.h5")], mentions: ["none.pth", "no such file"])
    try expectPicassoError(["import", "--pytorch", "\(Self.folder)/input.png", "--output", dir.file("x.h5")], mentions: ["input.png", "neither"])
  }

  /// The exported graph: opset, inputs and outputs, every parameter as an initializer with
  /// its shape and values, only standard ops.
  @Test func onnxGraphHoldsTheNetwork() throws {
    var settings = StyleModel.Settings()
    settings.architecture = .init(widths: [4, 8, 8], blocks: 2)
    settings.styleName = "paintings/sunset.png"
    let model = StyleModel(settings: settings, net: StylizeTests.network())
    let proto = try Onnx_ModelProto(serializedBytes: try ONNXExport.serialize(model, producerVersion: "test"))
    #expect(proto.opsetImport.map(\.version) == [13] && proto.irVersion == 7)
    #expect(proto.graph.input.map(\.name) == ["image"] && proto.graph.output.map(\.name) == ["stylized"])
    let dims = proto.graph.input[0].type.tensorType.shape.dim
    #expect(dims.map(\.dimParam) == ["N", "", "H", "W"] && dims[1].dimValue == 3)
    #expect(proto.metadataProps.contains { $0.key == "painting" && $0.value == "sunset.png" })
    let initializers = Dictionary(uniqueKeysWithValues: proto.graph.initializer.map { ($0.name, $0) })
    for (name, p) in zip(model.net.parameterNames, model.net.parameters) {
      let t = try #require(initializers[name], "\(name)")
      #expect(t.dims.map(Int.init) == p.shape)
      let values = Self.floats(t.rawData)
      #expect(values == Array(p.buffer), "\(name)")
    }
    let ops = Set(proto.graph.node.map(\.opType))
    #expect(ops.isSubset(of: ["Shape", "Slice", "Mod", "Sub", "Add", "Min", "Max", "Concat", "Pad", "Conv", "InstanceNormalization", "Relu",
                              "Resize", "Mul", "Clip"]), "\(ops)")
    #expect(proto.graph.node.filter { $0.opType == "Conv" }.count == 3 + 2 * 2 + 3)
    #expect(proto.graph.node.filter { $0.opType == "Resize" }.count == 2)
    #expect(proto.graph.node.last?.output == ["stylized"])
    // Every node's inputs are made before it: the graph input, initializers or earlier outputs.
    var known = Set(["image", ""]).union(initializers.keys)
    for node in proto.graph.node {
      for input in node.input { #expect(known.contains(input), "\(node.name) reads \(input) before it exists") }
      known.formUnion(node.output)
    }
  }
}
