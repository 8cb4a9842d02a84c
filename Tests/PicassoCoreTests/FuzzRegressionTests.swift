import Foundation
import Testing

@testable import PicassoCore

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
