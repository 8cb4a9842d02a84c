// Fuzz targets for everything that reads untrusted bytes. Built two ways:
// - by Scripts/fuzz.sh with `-sanitize=fuzzer,address -DFUZZING`: libFuzzer's driver runs
//   the target named by $PICASSO_FUZZ_TARGET;
// - as a plain executable (`picasso-fuzz TARGET FILE…`): runs each file through the target
//   once, which is how the regression inputs in Tests/Fuzz are replayed by `swift test`.
import Foundation
import PicassoCore

enum FuzzTarget: String, CaseIterable {
  case png, jpeg, exif, model, dataset
  /// A PyTorch state dict (`picasso import`): the zip and legacy readers, the restricted
  /// unpickler and the mapping onto the network.
  case pytorch
  /// Structure-aware: a well-formed (checksummed) model file whose numbers come from the
  /// input, where byte-level mutations of a checksummed file would only meet the checksums.
  case modelValues = "model-values"

  /// One input. Errors are the expected outcome for most inputs; only a crash, a hang or an
  /// unbounded allocation is a finding.
  func run(_ bytes: [UInt8]) {
    switch self {
    case .png, .jpeg:
      // A cap of 1 megapixel keeps each execution short; the limit's check is the same code
      // at any value (and Scripts/bombs.sh tests the default).
      _ = try? RGBImage.decode(bytes, maxPixels: 1 << 20)
    case .exif:
      _ = EXIF.orientation(Array("Exif\0\0".utf8) + bytes)
    case .model:
      withTemporaryFile(bytes) { path in
        guard let model = try? StyleModel.load(path) else { return }
        _ = model.net.parameterCount
      }
    case .modelValues:
      withTemporaryFile([]) { path in
        writeModel(values: bytes, to: path)
        guard let model = try? StyleModel.load(path) else { return }
        _ = model.net.parameterCount
      }
    case .pytorch:
      withTemporaryFile(bytes) { path in
        guard let dict = try? TorchStateDict.read(path) else { return }
        _ = try? StyleModel.fromPyTorch(dict, source: path)
      }
    case .dataset:
      withTemporaryFile(bytes) { path in
        guard let reader = try? DatasetReader(path) else { return }
        for split in [DatasetReader.Split.train, .val] where (reader.counts[split] ?? 0) > 0 && reader.size <= 64 {
          let batch = Tensor(shape: [1, 3, reader.size, reader.size])
          try? reader.read(split, indices: [0], flips: [true], into: batch)
        }
      }
    }
  }
}

/// A tiny model whose attributes and history are overwritten by 9-byte records of `values`:
/// byte 0 picks the attribute (low 4 bits), the width it sets (bits 4–5) and whether the next
/// 8 bytes are a Double's bits or a small integer (bit 7); bytes 1…8 are the value.
func writeModel(values: [UInt8], to path: String) {
  var settings = StyleModel.Settings()
  settings.architecture = .init(widths: [2, 2, 2], blocks: 1)
  do { try StyleModel(settings: settings).save(to: path) } catch { fatalError("\(error)") }
  guard let file = try? HDF5File(path, mode: .readWrite) else { fatalError("cannot reopen \(path)") }
  let names = ["format", "widths", "blocks", "output_scale", "style_size", "image_size", "batch_size", "iterations",
               "learning_rate", "style_weight", "history"]
  var widths: [Double] = [2, 2, 2], history: [Float] = []
  var k = 0
  while k + 9 <= values.count {
    let selector = values[k]
    let bits = values[(k + 1)..<(k + 9)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    let value = selector & 0x80 != 0 ? Double(bitPattern: bits) : Double(Int16(truncatingIfNeeded: bits))
    let name = names[Int(selector & 0x0F) % names.count]
    switch name {
    case "widths":
      widths[Int((selector >> 4) & 3) % 3] = value
      _ = try? file.setAttribute(name, .numbers(widths))
    case "history": history.append(Float(value))
    default: _ = try? file.setAttribute(name, .numbers([value]))
    }
    k += 9
  }
  let rows = history.count / 5
  if rows > 0 {
    _ = try? file.remove("history/val")
    _ = try? file.write("history/val", shape: [rows, 5], floats: Array(history.prefix(rows * 5)))
  }
}

/// HDF5 opens files by name: the bytes go to one file in /dev/shm (or the temporary folder),
/// rewritten for each input.
func withTemporaryFile(_ bytes: [UInt8], _ body: (String) -> Void) {
  let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
  let path = "\(folder)/picasso-fuzz-\(getpid()).h5"
  guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fatalError("cannot write \(path)") }
  defer { unlink(path) }
  body(path)
}

#if FUZZING
let fuzzTarget: FuzzTarget = {
  let name = ProcessInfo.processInfo.environment["PICASSO_FUZZ_TARGET"] ?? ""
  guard let target = FuzzTarget(rawValue: name) else {
    fatalError("set PICASSO_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue))")
  }
  return target
}()

typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
typealias Arguments = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<Arguments>, _ callback: FuzzCallback) -> CInt

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  fuzzTarget.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
  return 0
}

// SwiftPM links an executable's entry point as `<module>_main`, which may stand in for
// libFuzzer's `main`: it runs libFuzzer's driver just the same.
@_cdecl("picasso_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: Arguments) -> CInt {
  var (count, arguments) = (argc, argv)
  return LLVMFuzzerRunDriver(&count, &arguments, fuzzOne)
}
#else
/// Seed inputs, made by the project's own writers: small PNGs (RGB and a 16-bit grey one is
/// left to the mutator), a JPEG with an EXIF orientation, a tiny model with a history, a
/// tiny dataset.
func writeSeeds(to folder: String) throws {
  func dir(_ name: String) throws -> String {
    let path = "\(folder)/\(name)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }
  var rng = SplitMix64(seed: 7)
  func picture(_ w: Int, _ h: Int) -> RGBImage {
    RGBImage(width: w, height: h, pixels: (0..<(w * h * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
  }
  let png = try dir("png"), jpeg = try dir("jpeg"), exif = try dir("exif"), model = try dir("model"), dataset = try dir("dataset")
  for (k, (w, h)) in [(1, 1), (8, 5), (17, 16)].enumerated() {
    try Data(picture(w, h).encodePNG()).write(to: URL(fileURLWithPath: "\(png)/seed\(k).png"))
    try Data(picture(w, h).encodeJPEG(quality: 80)).write(to: URL(fileURLWithPath: "\(jpeg)/plain\(k).jpg"))
  }
  // An APP1 Exif segment (big-endian TIFF, one IFD0 entry: orientation 6) after SOI.
  let tiff: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0]
  let app1 = Array("Exif\0\0".utf8) + tiff
  let plain = try picture(12, 7).encodeJPEG(quality: 80)
  let length = app1.count + 2
  let rotated = [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + app1 + plain.dropFirst(2)
  try Data(rotated).write(to: URL(fileURLWithPath: "\(jpeg)/exif6.jpg"))
  try Data(tiff).write(to: URL(fileURLWithPath: "\(exif)/orientation6"))
  var settings = StyleModel.Settings()
  settings.architecture = .init(widths: [2, 2, 2], blocks: 1)
  let tiny = StyleModel(settings: settings)
  var losses = LossReport()
  (losses.content, losses.style, losses.tv, losses.total) = (1, 2, 3, 4)
  tiny.trainHistory = [.init(iteration: 1, losses: losses), .init(iteration: 2, losses: losses)]
  try tiny.save(to: "\(model)/tiny.h5")
  try tiny.save(to: "\(model)/tiny-f16.h5", float16: true)
  let values = try dir("model-values")
  func record(_ selector: UInt8, _ value: UInt64) -> [UInt8] { [selector] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
  try Data(record(2, 3) + record(1, 4) + record(0x80 | 3, (1.0 / 255).bitPattern)).write(to: URL(fileURLWithPath: "\(values)/blocks-widths"))
  try Data((0..<5).flatMap { record(10, UInt64($0)) }).write(to: URL(fileURLWithPath: "\(values)/history"))
  // State dicts made by PyTorch (Tests/PyTorch/make_fixture.py), zip and legacy, and a
  // pickle that calls os.system.
  let pytorch = try dir("pytorch")
  let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Tests/PyTorch")
  for name in ["transformer_small.pth", "transformer_small_legacy.pth"] {
    try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name), to: URL(fileURLWithPath: "\(pytorch)/\(name)"))
  }
  try Data([0x80, 0x02] + Array("cos\nsystem\n".utf8) + [0x58, 2, 0, 0, 0] + Array("ls".utf8) + [0x85, 0x52, 0x2E])
    .write(to: URL(fileURLWithPath: "\(pytorch)/system.pkl"))
  let photos = try dir("photos-for-dataset")
  for k in 0..<3 { try picture(10 + k, 9).write(to: "\(photos)/p\(k).png") }
  _ = try PhotoDataset.build(photos: (0..<3).map { "\(photos)/p\($0).png" }, sources: [photos], output: "\(dataset)/tiny.h5",
                             size: 8, valCount: 1, seed: 1)
  try FileManager.default.removeItem(atPath: photos)
}

/// Small files that declare enormous contents, for Scripts/bombs.sh.
func writeBombs(to folder: String) throws {
  try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
  func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
      crc ^= UInt32(b)
      for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
  }
  func bigEndian(_ v: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
  let small = RGBImage(width: 4, height: 4, pixels: [UInt8](repeating: 128, count: 48))
  // PNG: IHDR (bytes 8…32: length, type, 13 bytes of data, CRC) declaring 100000 × 100000,
  // with a correct CRC so that the decoder's own size limit is what refuses it.
  var png = try small.encodePNG()
  png.replaceSubrange(16..<24, with: bigEndian(100_000) + bigEndian(100_000))
  png.replaceSubrange(29..<33, with: bigEndian(crc32(png[12..<29])))
  try Data(png).write(to: URL(fileURLWithPath: "\(folder)/bomb-100000x100000.png"))
  // JPEG: the SOF0 frame header's height and width set to 60000 (libjpeg's own limit is 65500).
  var jpeg = try small.encodeJPEG(quality: 90)
  if let sof = (0..<(jpeg.count - 9)).first(where: { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 }) {
    jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [0xEA, 0x60, 0xEA, 0x60])
  }
  try Data(jpeg).write(to: URL(fileURLWithPath: "\(folder)/bomb-60000x60000.jpg"))
  // Dataset: 1000 images of 30000 × 30000 declared (2.7 TB), nothing written.
  do {
    let file = try HDF5File("\(folder)/bomb-dataset.h5", mode: .create)
    for split in ["train", "val"] {
      try file.createGrowingBytes("\(split)/images", itemShape: [3, 30000, 30000], chunkItems: 1)
      try file.setItemCount("\(split)/images", 1000)
    }
  }
  // Models: an architecture of 2^30 parameters, and a weight declared as 2^40 elements.
  var settings = StyleModel.Settings()
  settings.architecture = .init(widths: [2, 2, 2], blocks: 1)
  try StyleModel(settings: settings).save(to: "\(folder)/bomb-model-architecture.h5")
  do {
    let file = try HDF5File("\(folder)/bomb-model-architecture.h5", mode: .readWrite)
    try file.setAttribute("widths", .numbers([1024, 1024, 1024]))
    try file.setAttribute("blocks", .numbers([64]))
  }
  try StyleModel(settings: settings).save(to: "\(folder)/bomb-model-weights.h5")
  do {
    let file = try HDF5File("\(folder)/bomb-model-weights.h5", mode: .readWrite)
    try file.remove("params/conv1.weight")
    try file.createGrowingBytes("params/conv1.weight", itemShape: [], chunkItems: 1 << 20)
    try file.setItemCount("params/conv1.weight", 1 << 40)
  }
}

@main
struct Replay {
  static func main() {
    let arguments = CommandLine.arguments.dropFirst()
    if ["seeds", "bombs"].contains(arguments.first), arguments.count == 2 {
      do { try arguments.first == "seeds" ? writeSeeds(to: arguments.last!) : writeBombs(to: arguments.last!) } catch {
        print("picasso-fuzz: \(error)")
        exit(1)
      }
      return
    }
    guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count >= 2 else {
      print("usage: picasso-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE…  |  picasso-fuzz seeds|bombs FOLDER")
      exit(2)
    }
    for path in arguments.dropFirst() {
      guard let data = FileManager.default.contents(atPath: path) else {
        print("picasso-fuzz: cannot read \(path)")
        exit(1)
      }
      target.run([UInt8](data))
    }
    print("picasso-fuzz: \(arguments.count - 1) inputs through \(name), no crash")
  }
}
#endif
