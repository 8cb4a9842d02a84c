import Foundation
import PicassoCore
import Testing

struct HDF5Tests {
  @Test func datasetsAndAttributesRoundTrip() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let path = dir.file("t.h5")
    do {
      let file = try HDF5File(path, mode: .create)
      try file.write("group/sub/floats", shape: [2, 3], floats: [1, 2, 3, 4, 5, 6.5])
      try file.write("bytes", shape: [3, 2, 2], bytes: (0..<12).map(UInt8.init))
      try file.setAttribute("version", .numbers([3]))
      try file.setAttribute("name", .string("starry night"), of: "group")
      try file.setAttribute("layers", .strings(["relu1_1", "relu2_1"]), of: "group/sub/floats")
      try file.setAttribute("history", .numbers([0.5, 0.25]))
    }
    let file = try HDF5File(path)
    let (shape, floats) = try file.readFloats("group/sub/floats")
    #expect(shape == [2, 3] && floats == [1, 2, 3, 4, 5, 6.5])
    #expect(try file.readBytes("bytes").values == (0..<12).map(UInt8.init))
    var slab = [UInt8](repeating: 0, count: 8)
    try slab.withUnsafeMutableBytes { try file.readBytes("bytes", first: 1, count: 2, into: $0.baseAddress!) }
    #expect(slab == (4..<12).map(UInt8.init))
    #expect(try file.number("version") == 3)
    #expect(try file.string("name", of: "group") == "starry night")
    #expect(try file.attribute("layers", of: "group/sub/floats") == .strings(["relu1_1", "relu2_1"]))
    #expect(try file.attribute("history") == .numbers([0.5, 0.25]))
    #expect(try file.children() == ["bytes", "group"])
  }

  /// A file someone else holds an exclusive flock() on still opens (with libhdf5's own locks
  /// it fails as "not a readable HDF5 file", the error a trainer test once met on the dataset
  /// it had just built). picasso opens files without HDF5's locks; its writes are published by
  /// renames.
  @Test func filesOpenWhileSomeoneHoldsTheirLock() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let path = dir.file("locked.h5")
    do {
      let file = try HDF5File(path, mode: .create)
      try file.setAttribute("version", .numbers([3]))
    }
    let fd = open(path, O_RDONLY)
    #expect(fd >= 0)
    defer { close(fd) }
    #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
    #expect(try HDF5File(path).number("version") == 3)
    #expect(try HDF5File(path, mode: .readWrite).number("version") == 3)
  }

  @Test func errorsNameTheFileAndThePath() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let path = dir.file("t.h5")
    _ = try HDF5File(path, mode: .create)
    let file = try HDF5File(path)
    #expect { try file.readFloats("nothing/here") } throws: { "\($0)" == "\(path): 'nothing/here': no such dataset" }
    #expect { try file.number("missing") } throws: { "\($0)".contains(path) && "\($0)".contains("missing") }
    #expect { try HDF5File(dir.file("absent.h5")) } throws: { "\($0)".contains("absent.h5") }
    try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: dir.file("bad.h5")))
    #expect { try HDF5File(dir.file("bad.h5")) } throws: { "\($0)".contains("bad.h5") }
  }

  /// The converted weights load in both Keras key layouts, as VGG19 with all 16 convolutions.
  @Test func vggLoadsFromEitherKerasLayout() throws {
    let legacy = try requireVGG(taps: ["relu5_4"])
    #expect(legacy.architecture == .vgg19)
    #expect(legacy.availableTaps.count == 16)

    // Rewrite the first two layers in the newer layout (block/block/kernel:0) as a VGG file
    // truncated after relu1_2 and load it.
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let source = try HDF5File(Paths.vgg)
    let modern = try HDF5File(dir.file("modern.h5"), mode: .create)
    for name in ["block1_conv1", "block1_conv2"] {
      let (ks, k) = try source.readFloats("\(name)/\(name)_W_1:0")
      let (bs, b) = try source.readFloats("\(name)/\(name)_b_1:0")
      try modern.write("\(name)/\(name)/kernel:0", shape: ks, floats: k)
      try modern.write("\(name)/\(name)/bias:0", shape: bs, floats: b)
    }
    modern.flush()
    let small = try VGG(weightsFile: dir.file("modern.h5"), taps: ["relu1_2"])
    let x = randomTensor([1, 3, 12, 12], seed: 3, lo: 0, hi: 1)
    let a = small.forward(x, taps: ["relu1_2"])["relu1_2"]!.clone()
    let b = legacy.forward(x, taps: ["relu1_2"])["relu1_2"]!
    #expect(a.array == b.array)
    // Without block3_conv4 the file counts as VGG16, whose taps stop at relu5_3.
    #expect(small.architecture == .vgg16)
    #expect { try VGG(weightsFile: dir.file("modern.h5"), taps: ["relu2_1"]) } throws: { "\($0)".contains("block2_conv1") }
  }

  @Test func unknownLayerNamesAreRefused() throws {
    _ = try requireVGG(taps: ["relu1_1"])
    #expect { try VGG(weightsFile: Paths.vgg, taps: ["relu9_9"]) } throws: {
      "\($0)".contains("'relu9_9'") && "\($0)".contains("relu5_4")
    }
  }

  /// Declared shapes are checked before anything is allocated: too many elements, or a
  /// product that overflows, is refused.
  @Test func declaredShapesAreBounded() {
    #expect(HDF5File.elementCount([4, 3, 256, 256]) == 786_432)
    #expect(HDF5File.elementCount([]) == 1)
    #expect(HDF5File.elementCount([100_000, 3, 100_000, 100_000]) == nil)
    #expect(HDF5File.elementCount([1 << 40, 1 << 40]) == nil)
    #expect(HDF5File.elementCount([10, 10], limit: 99) == nil)
  }
}
