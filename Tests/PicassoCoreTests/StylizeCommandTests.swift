import Foundation
import PicassoCore
import Testing

/// `picasso stylize` as a user runs it on files and folders, good and bad.
@Suite(.serialized)
struct StylizeCommandTests {
  /// A small model file (random weights) in `dir`.
  static func model(_ dir: TemporaryFolder) throws -> String {
    var settings = StyleModel.Settings()
    settings.architecture = .init(widths: [4, 8, 8], blocks: 1)
    settings.styleName = "painting.png"
    let model = StyleModel(settings: settings, net: StylizeTests.network())
    let path = dir.file("model.h5")
    try model.save(to: path)
    return path
  }

  @Test func foldersAreMirroredAndBadFilesListed() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let model = try Self.model(dir)
    let folder = try TrainingTests.photos(dir, count: 4)  // + broken.jpg and readme.txt
    try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]).write(to: URL(fileURLWithPath: folder + "/nested/truncated.png"))
    try Data().write(to: URL(fileURLWithPath: folder + "/empty.jpg"))
    let out = dir.file("out")
    let r = try runPicasso(["stylize", "--model", model, "--output-dir", out, "--json", folder])
    #expect(r.status == 1, "\(r.stderr)")
    #expect(r.stderr.contains("4 rendered, 3 failed"), "\(r.stderr)")
    for bad in ["broken.jpg", "truncated.png", "empty.jpg"] { #expect(r.stderr.contains(bad)) }
    #expect(!r.stderr.contains("readme"))
    let lines = r.stdout.split(separator: "\n")
    #expect(lines.count == 4)
    for i in 0..<4 {
      let name = i % 2 == 0 ? "photos/p\(i).png" : "photos/nested/p\(i).png"
      let source = try RGBImage.read(i % 2 == 0 ? "\(folder)/p\(i).png" : "\(folder)/nested/p\(i).jpg")
      let painted = try RGBImage.read(out + "/" + name)
      #expect(painted.width == source.width && painted.height == source.height, "\(name)")
    }
    // A second run skips what exists; --overwrite redoes it; jpg output and strength 0.
    let again = try runPicasso(["stylize", "--model", model, "--output-dir", out, folder])
    #expect(again.status == 1 && again.stderr.contains("0 rendered, 3 failed, 4 skipped"), "\(again.stderr)")
    let plain = try runPicasso(["stylize", "--model", model, "--output-dir", out, "--overwrite", "--format", "jpg",
                                "--strength", "0", "--quality", "100", folder + "/p0.png"])
    #expect(plain.status == 0, "\(plain.stderr)")
    let photo = try RGBImage.read(folder + "/p0.png"), unpainted = try RGBImage.read(out + "/p0.jpg")
    #expect(StylizeTests.difference(photo, unpainted).mean < 3)
  }

  @Test func badModelsAndFoldersGetOneLine() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let model = try Self.model(dir)
    let photo = dir.file("photo.png")
    try StylizeTests.photo(width: 40, height: 30).write(to: photo)

    func expectError(_ args: [String], mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
      try expectPicassoError(["stylize"] + args, mentions: mentions, sourceLocation: sourceLocation)
    }
    // A corrupt model file: the first bytes of a real one.
    let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
    try bytes.prefix(3000).write(to: URL(fileURLWithPath: dir.file("corrupt.h5")))
    try expectError(["--model", dir.file("corrupt.h5"), "--output-dir", dir.file("o1"), photo], mentions: ["corrupt.h5"])
    // A model from a future format.
    try FileManager.default.copyItem(atPath: model, toPath: dir.file("future.h5"))
    do {
      let file = try HDF5File(dir.file("future.h5"), mode: .readWrite)
      try file.setAttribute("format", .numbers([7]))
    }
    try expectError(["--model", dir.file("future.h5"), "--output-dir", dir.file("o2"), photo], mentions: ["future.h5", "newer"])
    // An output folder that cannot be created or written.
    try Data("x".utf8).write(to: URL(fileURLWithPath: dir.file("file")))
    try expectError(["--model", model, "--output-dir", dir.file("file/sub"), photo], mentions: ["cannot be created"])
    // An image over the pixel limit is refused with the limit and the flag.
    let r = try runPicasso(["stylize", "--model", model, "--output-dir", dir.file("o3"), "--max-pixels", "1000", photo])
    #expect(r.status == 1)
    #expect(r.stderr.contains("photo.png") && r.stderr.contains("--max-pixels"), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir.file("o3/photo.png")))
    // No photos at all.
    try FileManager.default.createDirectory(atPath: dir.file("empty"), withIntermediateDirectories: true)
    try expectError(["--model", model, "--output-dir", dir.file("o4"), dir.file("empty")], mentions: ["no JPEG or PNG"])
    try expectError(["--model", model, "--strength", "2", photo], mentions: ["--strength"])
    try expectError(["--model", model, "--margin=-4", photo], mentions: ["--margin"])
  }

  /// Without arguments: the bundled models in Models/, and no complaint about the VGG19
  /// weights beside them (an older HDF5 format that models are never written in).
  @Test func modelsWithoutArgumentsListsTheBundledModels() throws {
    let r = try runPicasso(["models"])
    #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
    let bundled = try FileManager.default.contentsOfDirectory(atPath: "Models").filter { $0.hasSuffix(".h5") && $0 != "vgg19.h5" }
    #expect(!bundled.isEmpty)
    for name in bundled { #expect(r.stdout.contains((name as NSString).deletingPathExtension), "\(r.stdout)") }
  }

  @Test func modelsListsModelsAndRefusesOtherFiles() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    _ = try Self.model(dir)
    // A second model with loss histories: the table and JSON report its last validation loss.
    var settings = StyleModel.Settings()
    settings.architecture = .init(widths: [4, 8, 8], blocks: 1)
    let trained = StyleModel(settings: settings, net: StylizeTests.network())
    func record(_ iteration: Int, _ total: Double) -> StyleModel.Record {
      var r = LossReport()
      (r.content, r.style, r.tv, r.total) = (total / 2, total / 4, total / 8, total)
      return StyleModel.Record(iteration: iteration, losses: r)
    }
    trained.trainHistory = [record(1, 900), record(2, 800)]
    trained.valHistory = [record(1, 600), record(2, 512)]
    try trained.save(to: dir.file("trained.h5"))
    let v = try runPicasso(["models", "--json", dir.file("trained.h5")])
    #expect(v.stdout.contains(#""validation":{"content":256,"iteration":2,"style":128,"total":512,"tv":64}"#), "\(v.stdout)")
    #expect(v.stdout.contains(#""validation_history":[[1,300,150,75,600],[2,256,128,64,512]]"#), "\(v.stdout)")
    #expect(v.stdout.contains(#""grid_weight":1000000"#), "\(v.stdout)")
    #expect(try runPicasso(["models", dir.file("trained.h5")]).stdout.contains("512 (256, 128, 64) validation @2"))
    try Data("x".utf8).write(to: URL(fileURLWithPath: dir.file("notes.h5")))
    let r = try runPicasso(["models", "--json", dir.file("model.h5")])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains(#""architecture":"c9s1-4,d8,d8,R8,u8,u4,c9s1-3""#) && r.stdout.contains(#""painting":"painting.png""#), "\(r.stdout)")
    let table = try runPicasso(["models", dir.path])
    #expect(table.status == 1 && table.stdout.contains("4-8-8, 1 blocks") && errorLine(table).contains("notes.h5"), "\(table)")
  }

  /// --shard I/N: the parts together render every photo once (broken files fail in exactly one
  /// part), a part does not depend on listing order or on other parts, a rerun resumes it, and
  /// mpirun's rank stands in for --shard.
  @Test func shardsSplitAFolderExactlyOnce() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let model = try Self.model(dir)
    let folder = try TrainingTests.photos(dir, count: 7)  // + broken.jpg
    let out = dir.file("out")
    var rendered: [String] = []
    var failures = 0
    for i in 1...3 {
      let r = try runPicasso(["stylize", "--model", model, "--output-dir", out, "--json", "--shard", "\(i)/3", folder])
      rendered += r.stdout.split(separator: "\n").map(String.init)
      failures += r.stderr.components(separatedBy: "failed: ").count - 1
      #expect(r.stderr.contains("part \(i)/3"), "\(r.stderr)")
    }
    #expect(rendered.count == 7 && Set(rendered).count == 7 && failures == 1, "\(rendered)")
    let again = try runPicasso(["stylize", "--model", model, "--output-dir", out, "--shard", "2/3", folder])
    #expect(again.stderr.contains("already done"), "\(again.stderr)")
    // Under mpirun: rank 1 of 3 is part 2/3.
    let mpi = try runPicasso(["stylize", "--model", model, "--output-dir", dir.file("mpi"), "--json", folder],
                             environment: ["OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "3"])
    let direct = try runPicasso(["stylize", "--model", model, "--output-dir", dir.file("direct"), "--json", "--shard", "2/3", folder])
    func names(_ r: PicassoRun) -> [String] {
      r.stdout.split(separator: "\n").map { ($0.split(separator: ",").first { $0.contains("\"input\"") } ?? "").description }.sorted()
    }
    #expect(!names(mpi).isEmpty && names(mpi) == names(direct), "\(mpi.stderr)")
    for bad in ["3/2", "0/0", "x", "1/", "-1/2"] {
      let r = try runPicasso(["stylize", "--model", model, "--shard=\(bad)", folder])
      #expect(r.status == 2 && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("--shard"), "\(bad): \(r.stderr)")
    }
  }

  @Test func shardsDoNotDependOnListingOrder() throws {
    let items = (0..<23).map { "photos/p\($0 * 7 % 23).png" }
    var parts: [[String]] = []
    for i in 1...4 {
      let shard = try Shard(index: i, count: 4)
      let a = shard.select(items, by: { $0 }), b = shard.select(items.reversed(), by: { $0 })
      #expect(a == b)
      #expect(a.count == 5 || a.count == 6)
      parts.append(a)
    }
    #expect(parts.flatMap { $0 }.sorted() == items.sorted())
  }
}
