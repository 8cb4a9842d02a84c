import Foundation
import PicassoCore
import SwiftProtobuf

/// The transformation network as an ONNX model (opset 13, IR version 7), the weights inside.
///
/// - Input `image`: float32 [N, 3, H, W], RGB in [0, 1]; N, H and W are free.
/// - Output `stylized`: float32 [N, 3, H, W], RGB clipped to [0, 1]: what `picasso stylize`
///   writes, before it rounds to 8 bits.
///
/// The graph does what `Stylizer` does around the network: it mirrors the photo into a margin
/// on every side (`Stylizer.defaultMargin` pixels, at most the side less one), extends it by
/// repeating the last row and column to sides that are multiples of 4 (at least 16), runs the
/// network, and crops back. Each conv pads by reflection (a `Pad` node, then `Conv`); each instance norm
/// is `InstanceNormalization` (ε 1e-5) and a `Relu` where ours has one; each ×2 upsample is a
/// nearest-neighbour `Resize`; the output scale is a `Mul`. No op outside the default domain.
public enum ONNXExport {
  public static let opset: Int64 = 13
  public static let irVersion: Int64 = 7
  public static let inputName = "image"
  public static let outputName = "stylized"

  /// The serialised ModelProto.
  public static func serialize(_ model: StyleModel, producerVersion: String, margin: Int = Stylizer.defaultMargin) throws -> Data {
    var graph = GraphBuilder()
    var names = model.net.parameterNames.makeIterator()
    let framed = graph.frame(inputName, margin: margin)
    let y = try graph.emit(model.net.network, input: framed.output, names: &names)
    let cropped = graph.node("Slice", [y, framed.start, framed.end, graph.int64s("axes_hw", [2, 3])], name: "crop")
    graph.node("Clip", [cropped, graph.scalar("zero", 0), graph.scalar("one", 1)], name: "clip", output: outputName)

    var g = Onnx_GraphProto()
    g.name = "picasso_transformer"
    g.node = graph.nodes
    g.initializer = graph.initializers
    g.input = [imageInfo(inputName)]
    g.output = [imageInfo(outputName)]
    let s = model.settings
    var proto = Onnx_ModelProto()
    proto.irVersion = irVersion
    proto.producerName = "picasso"
    proto.producerVersion = producerVersion
    proto.domain = "picasso.style"
    proto.modelVersion = 1
    proto.docString = """
      Picasso Me style filter (Johnson et al. 2016 transformation network, \(s.architecture.string)). \
      Input 'image': float32 [N, 3, H, W], RGB in [0, 1]. Output 'stylized': float32 [N, 3, H, W], \
      RGB in [0, 1]. Any H and W (the graph mirrors the photo into a margin, pads to multiples of 4 and crops back).
      """
    var opset = Onnx_OperatorSetIdProto()
    opset.domain = ""
    opset.version = Self.opset
    proto.opsetImport = [opset]
    proto.graph = g
    let painting = s.importedFrom.isEmpty ? (s.styleName as NSString).lastPathComponent : ""
    for (key, value) in [("painting", painting), ("architecture", s.architecture.string), ("imported_from", s.importedFrom),
                         ("iterations", s.importedFrom.isEmpty ? String(model.checkpoint?.iteration ?? model.trainHistory.last?.iteration ?? 0) : "")]
    where !value.isEmpty {
      var entry = Onnx_StringStringEntryProto()
      entry.key = key
      entry.value = value
      proto.metadataProps.append(entry)
    }
    return try proto.serializedData()
  }

  /// A float32 [N, 3, H, W] value with symbolic N, H and W.
  static func imageInfo(_ name: String) -> Onnx_ValueInfoProto {
    var shape = Onnx_TensorShapeProto()
    for d in ["N", "3", "H", "W"] {
      var dim = Onnx_TensorShapeProto.Dimension()
      if let n = Int64(d) { dim.dimValue = n } else { dim.dimParam = d }
      shape.dim.append(dim)
    }
    var tensor = Onnx_TypeProto.Tensor()
    tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    tensor.shape = shape
    var type = Onnx_TypeProto()
    type.tensorType = tensor
    var info = Onnx_ValueInfoProto()
    info.name = name
    info.type = type
    return info
  }
}

/// Nodes and initializers in the order they are made (a topological order).
struct GraphBuilder {
  var nodes: [Onnx_NodeProto] = []
  var initializers: [Onnx_TensorProto] = []
  private var constants: Set<String> = []
  private var counter = 0

  /// Adds a node; returns its (single) output's name.
  @discardableResult
  mutating func node(_ op: String, _ inputs: [String], attributes: [Onnx_AttributeProto] = [], name: String, output: String? = nil) -> String {
    counter += 1
    var n = Onnx_NodeProto()
    n.opType = op
    n.name = "\(name)_\(counter)"
    n.input = inputs
    n.output = [output ?? n.name]
    n.attribute = attributes
    nodes.append(n)
    return n.output[0]
  }

  mutating func tensor(_ name: String, dims: [Int], floats: UnsafeBufferPointer<Float>) -> String {
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = dims.map(Int64.init)
    t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    t.rawData = Data(buffer: floats)  // raw_data is little-endian, as every machine picasso builds for
    initializers.append(t)
    return name
  }

  /// A shared int64 constant (made once per name).
  mutating func int64s(_ name: String, _ values: [Int64]) -> String {
    guard constants.insert(name).inserted else { return name }
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = [Int64(values.count)]
    t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
    t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
    initializers.append(t)
    return name
  }

  /// A shared float32 scalar constant.
  mutating func scalar(_ name: String, _ value: Float) -> String {
    guard constants.insert(name).inserted else { return name }
    _ = [value].withUnsafeBufferPointer { tensor(name, dims: [], floats: $0) }
    return name
  }

  static func attribute(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .ints
    a.ints = ints.map(Int64.init)
    return a
  }

  static func attribute(_ name: String, _ value: Float) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .float
    a.f = value
    return a
  }

  static func attribute(_ name: String, _ value: String) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .string
    a.s = Data(value.utf8)
    return a
  }

  static func attribute(_ name: String, int value: Int) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .int
    a.i = Int64(value)
    return a
  }

  /// Puts `input` on `Stylizer`'s canvas: mirrored into a margin of min(margin, side − 1)
  /// pixels on every side, then edge-padded so that H and W become multiples of 4, at least
  /// 16. Returns the canvas and where the photo lies in it ([top, left] and [bottom, right],
  /// int64), for the final crop.
  mutating func frame(_ input: String, margin: Int) -> (output: String, start: String, end: String) {
    let shape = node("Shape", [input], name: "shape")
    let hw = node("Slice", [shape, int64s("two", [2]), int64s("four", [4])], name: "hw")
    let m = node("Min", [node("Sub", [hw, int64s("ones2", [1, 1])], name: "hw_less_1"),
                         int64s("margin", [Int64(margin), Int64(margin)])], name: "margin_hw")
    let zeros2 = int64s("zeros2", [0, 0])
    let mirrorPads = node("Concat", [zeros2, m, zeros2, m], attributes: [Self.attribute("axis", int: 0)], name: "mirror_pads")
    let mirrored = node("Pad", [input, mirrorPads], attributes: [Self.attribute("mode", "reflect")], name: "mirror")
    let end = node("Add", [hw, m], name: "photo_end")
    let framed = node("Add", [end, m], name: "hw_mirrored")
    let four = int64s("four", [4])
    let rest = node("Mod", [framed, four], name: "hw_mod4")
    let short = node("Mod", [node("Sub", [four, rest], name: "to_next"), four], name: "to_multiple")
    let rounded = node("Max", [node("Add", [framed, short], name: "hw_rounded"), int64s("sixteen", [16])], name: "hw_padded")
    let amount = node("Sub", [rounded, framed], name: "pad_hw")
    let pads = node("Concat", [int64s("zeros6", [0, 0, 0, 0, 0, 0]), amount], attributes: [Self.attribute("axis", int: 0)], name: "pads")
    let padded = node("Pad", [mirrored, pads], attributes: [Self.attribute("mode", "edge")], name: "extend")
    return (padded, m, end)
  }

  /// The ONNX nodes for one of `TransformerNet`'s layers; returns the output's name.
  mutating func emit(_ layer: Layer, input: String, names: inout IndexingIterator<[String]>) throws -> String {
    switch layer {
    case let sequence as Sequential:
      var x = input
      for l in sequence.layers { x = try emit(l, input: x, names: &names) }
      return x
    case let residual as Residual:
      let y = try emit(residual.body, input: input, names: &names)
      return node("Add", [y, input], name: "residual")
    case let conv as Conv2D:
      let (w, b) = (names.next()!, names.next()!)
      let layerName = String(w.dropLast(".weight".count))
      var x = input
      var attributes = [Self.attribute("kernel_shape", ints: [conv.kernel, conv.kernel]),
                        Self.attribute("strides", ints: [conv.stride, conv.stride])]
      if conv.pad > 0 {
        switch conv.padding {
        case .reflect:
          let p = Int64(conv.pad)
          x = node("Pad", [x, int64s("pads_reflect_\(p)", [0, 0, p, p, 0, 0, p, p])], attributes: [Self.attribute("mode", "reflect")],
                   name: "\(layerName)_pad")
        case .zero:
          attributes.append(Self.attribute("pads", ints: Array(repeating: conv.pad, count: 4)))
        }
      }
      let weight = tensor(w, dims: conv.weight.shape, floats: UnsafeBufferPointer(conv.weight.buffer))
      let bias = tensor(b, dims: conv.bias.shape, floats: UnsafeBufferPointer(conv.bias.buffer))
      x = node("Conv", [x, weight, bias], attributes: attributes, name: layerName)
      return conv.relu ? node("Relu", [x], name: "\(layerName)_relu") : x
    case let norm as InstanceNorm:
      let (g, b) = (names.next()!, names.next()!)
      let layerName = String(g.dropLast(".weight".count))
      let scale = tensor(g, dims: norm.gamma.shape, floats: UnsafeBufferPointer(norm.gamma.buffer))
      let bias = tensor(b, dims: norm.beta.shape, floats: UnsafeBufferPointer(norm.beta.buffer))
      let y = node("InstanceNormalization", [input, scale, bias], attributes: [Self.attribute("epsilon", norm.epsilon)], name: layerName)
      return norm.relu ? node("Relu", [y], name: "\(layerName)_relu") : y
    case is Upsample2x:
      let scales = "scales_2x"
      if constants.insert(scales).inserted {
        _ = [Float(1), 1, 2, 2].withUnsafeBufferPointer { tensor(scales, dims: [4], floats: $0) }
      }
      return node("Resize", [input, "", scales],
                  attributes: [Self.attribute("mode", "nearest"), Self.attribute("coordinate_transformation_mode", "asymmetric"),
                               Self.attribute("nearest_mode", "floor")], name: "upsample")
    case let scale as Scale:
      return node("Mul", [input, self.scalar("output_scale", scale.factor)], name: "output_scale")
    default:
      throw PicassoError.badInput("the network has a layer ONNX export does not know: \(type(of: layer))")
    }
  }
}
