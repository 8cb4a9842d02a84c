import Foundation
import Testing

@testable import PicassoCore
@testable import picasso_fuzz

/// Every input that fuzzing found to crash a reader (Tests/Fuzz/TARGET/…) is refused cleanly.
@Suite struct FuzzRegressionTests {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fuzz").path

  static func inputs(_ target: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: "\(folder)/\(target)").sorted().map { "\(folder)/\(target)/\($0)" }
  }

  @Test func modelInputsAreRefused() throws {
    let files = try Self.inputs("model")
    #expect(!files.isEmpty)
    for file in files {
      #expect { try StyleModel.load(file) } throws: { "\($0)".contains("without metadata checksums") }
    }
  }

  @Test func datasetInputsAreRefused() throws {
    let files = try Self.inputs("dataset")
    #expect(!files.isEmpty)
    for file in files {
      #expect { try DatasetReader(file) } throws: { "\($0)".contains("without metadata checksums") }
    }
  }

  /// Well-formed model files with hostile numbers (NaN, ±∞, huge widths, negative sizes).
  @Test func modelValueInputsAreRefused() throws {
    let files = try Self.inputs("model-values")
    #expect(!files.isEmpty)
    let dir = TemporaryFolder()
    defer { dir.remove() }
    for file in files {
      writeModel(values: [UInt8](try Data(contentsOf: URL(fileURLWithPath: file))), to: dir.file("m.h5"))
      #expect(throws: PicassoError.self) { try StyleModel.load(dir.file("m.h5")) }
    }
    // And the same by construction, one number at a time.
    func record(_ selector: UInt8, _ value: Double) -> [UInt8] {
      [selector | 0x80] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * $0)) }
    }
    for (selector, value) in [(0, Double.nan), (1, 1e9), (1, -1), (2, .infinity), (2, 65), (4, .nan), (5, -3), (7, 1e300)] {
      writeModel(values: record(UInt8(selector), value), to: dir.file("m.h5"))
      #expect(throws: PicassoError.self, "attribute \(selector) = \(value)") { try StyleModel.load(dir.file("m.h5")) }
    }
    writeModel(values: (0..<5).flatMap { _ in record(10, .nan) }, to: dir.file("m.h5"))
    #expect(throws: PicassoError.self) { try StyleModel.load(dir.file("m.h5")) }
    // A model this large is refused from its attributes, before any weight is allocated.
    writeModel(values: record(0x01, 1024) + record(0x11, 1024) + record(0x21, 1024) + record(2, 64), to: dir.file("m.h5"))
    #expect { try StyleModel.load(dir.file("m.h5")) } throws: { "\($0)".contains("parameters") }
  }

  /// The project's own files carry checksums, and damage to their metadata is refused by them.
  @Test func ownFilesAreChecksummed() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    var settings = StyleModel.Settings()
    settings.architecture = .init(widths: [2, 2, 2], blocks: 1)
    let path = dir.file("m.h5")
    try StyleModel(settings: settings).save(to: path)
    #expect(HDF5File.superblockVersion(path) == 3)
    _ = try StyleModel.load(path)
    // Flip one byte in each 64-byte stretch of the first 2 KB (superblock, root group header,
    // attributes): the file must load correctly or be refused, never crash.
    let original = try Data(contentsOf: URL(fileURLWithPath: path))
    var refused = 0
    for offset in stride(from: 9, to: min(2048, original.count), by: 64) {
      var damaged = original
      damaged[offset] ^= 0x5A
      try damaged.write(to: URL(fileURLWithPath: dir.file("d.h5")))
      if (try? StyleModel.load(dir.file("d.h5"))) == nil { refused += 1 }
    }
    #expect(refused > 0)
  }
}
