import Foundation
import PicassoCore
import Testing

/// `picasso compare`: the same objective and the same numbers as `picasso optimize`.
@Suite(.serialized)
struct CompareCommandTests {
  /// A small model trained (nominally) at 32 px with the painting at 32 px, so compare shows
  /// the painting at the same size as optimize with --style-scale 1.
  static func model(_ dir: TemporaryFolder, contentLayers: [String] = ["relu2_2"]) throws -> String {
    var settings = StyleModel.Settings()
    settings.architecture = .init(widths: [4, 8, 8], blocks: 1)
    settings.styleName = "painting.png"
    settings.imageSize = 32
    settings.styleSize = [32, 24]
    settings.contentLayers = contentLayers
    settings.weights = LossWeights(content: 1, style: 5, tv: 1)  // as the optimize runs below
    let model = StyleModel(settings: settings, net: StylizeTests.network())
    let path = dir.file("model-\(contentLayers.joined()).h5")
    try model.save(to: path)
    return path
  }

  struct Report: Decodable {
    struct Output: Decodable { var total: Double; var content: Double; var style: Double; var tv: Double; var iterations: Int? }
    struct Photo: Decodable { var fast: Output; var slow: [Output]; var slow_totals: [Double]; var equivalent_iterations: Int? }
    var photos: [Photo]
  }

  @Test func slowLossesMatchOptimizeAndFastLossesTheObjective() throws {
    _ = try requireVGG(taps: ["relu1_1"])
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let model = try Self.model(dir)
    let photo = dir.file("photo.png"), painting = dir.file("painting.png")
    try StylizeTests.photo(width: 40, height: 30, seed: 1).write(to: photo)
    try StylizeTests.photo(width: 48, height: 36, seed: 9).write(to: painting)

    let r = try runPicasso(["compare", "--model", model, "--style", painting, "--iterations", "3,1", "--size", "32",
                            "--output", dir.file("sheet.png"), "--report", dir.file("report.md"), "--json", photo])
    #expect(r.status == 0, "\(r.stderr)")
    let report = try JSONDecoder().decode(Report.self, from: Data(r.stdout.utf8))
    let result = report.photos[0]
    #expect(result.slow.map(\.iterations) == [1, 3])
    #expect(result.slow_totals.count == 3)
    for path in ["sheet.png", "sheet-loss.png", "report.md"] { #expect(FileManager.default.fileExists(atPath: dir.file(path))) }

    // The same settings through picasso optimize.
    let o = try runPicasso(["optimize", "--content", photo, "--style", painting, "--output", dir.file("slow.png"), "--size", "32",
                            "--iterations", "3", "--content-layers", "relu2_2", "--style-layers", "relu1_2,relu2_2,relu3_3,relu4_3",
                            "--content-weight", "1", "--style-weight", "5", "--tv-weight", "1", "--json"])
    #expect(o.status == 0, "\(o.stderr)")
    struct Optimized: Decodable { var total_loss: Double; var content_loss: Double; var style_loss: Double }
    let optimized = try JSONDecoder().decode(Optimized.self, from: Data(o.stdout.utf8))
    #expect(isClose(result.slow[1].total, optimized.total_loss, rel: 1e-6), "\(result.slow[1].total) vs \(optimized.total_loss)")
    #expect(isClose(result.slow[1].style, optimized.style_loss, rel: 1e-6))

    // The fast output's losses: the model's output under the same objective, computed here.
    let loaded = try StyleModel.load(model)
    let vgg = try VGG(weightsFile: Paths.vgg, taps: loaded.settings.contentLayers + loaded.settings.styleLayers)
    let objective = StyleObjective(
      vgg: vgg, styles: [(try RGBImage.read(painting).resized(longSide: 32).tensor(), 1)],
      contentLayers: loaded.settings.contentLayers, styleLayers: loaded.settings.styleLayers, weights: loaded.settings.weights)
    let image = try RGBImage.read(photo).resized(longSide: 32)
    objective.setContent(image.tensor())
    let fast = objective.evaluate(Stylizer(net: loaded.net).outputTensor(image))
    #expect(isClose(result.fast.total, fast.total, rel: 1e-6), "\(result.fast.total) vs \(fast.total)")
    let equivalent = result.slow_totals.firstIndex { $0 < fast.total }.map { $0 + 1 }
    #expect(result.equivalent_iterations == equivalent)

    // --style-size sets the painting's long side for both methods: optimize with the painting
    // at half the photo's size gives the same slow losses.
    let small = try runPicasso(["compare", "--model", model, "--style", painting, "--iterations", "2", "--size", "32",
                                "--style-size", "16", "--output", dir.file("small.png"), "--json", photo])
    #expect(small.status == 0, "\(small.stderr)")
    let smallResult = try JSONDecoder().decode(Report.self, from: Data(small.stdout.utf8)).photos[0]
    let o2 = try runPicasso(["optimize", "--content", photo, "--style", painting, "--output", dir.file("slow2.png"), "--size", "32",
                             "--style-scale", "0.5", "--iterations", "2", "--content-layers", "relu2_2",
                             "--style-layers", "relu1_2,relu2_2,relu3_3,relu4_3",
                             "--content-weight", "1", "--style-weight", "5", "--tv-weight", "1", "--json"])
    #expect(o2.status == 0, "\(o2.stderr)")
    let optimized2 = try JSONDecoder().decode(Optimized.self, from: Data(o2.stdout.utf8))
    #expect(isClose(smallResult.slow[0].total, optimized2.total_loss, rel: 1e-6), "\(smallResult.slow[0].total) vs \(optimized2.total_loss)")
    #expect(!isClose(smallResult.fast.style, result.fast.style, rel: 1e-3), "the painting's size changed nothing")

    // --init random starts the optimiser where optimize --init random does.
    let noise = try runPicasso(["compare", "--model", model, "--style", painting, "--iterations", "2", "--size", "32",
                                "--init", "random", "--seed", "7", "--output", dir.file("noise.png"), "--json", photo])
    #expect(noise.status == 0, "\(noise.stderr)")
    let noiseResult = try JSONDecoder().decode(Report.self, from: Data(noise.stdout.utf8)).photos[0]
    let o3 = try runPicasso(["optimize", "--content", photo, "--style", painting, "--output", dir.file("slow3.png"), "--size", "32",
                             "--init", "random", "--seed", "7", "--iterations", "2", "--content-layers", "relu2_2",
                             "--style-layers", "relu1_2,relu2_2,relu3_3,relu4_3",
                             "--content-weight", "1", "--style-weight", "5", "--tv-weight", "1", "--json"])
    #expect(o3.status == 0, "\(o3.stderr)")
    let optimized3 = try JSONDecoder().decode(Optimized.self, from: Data(o3.stdout.utf8))
    #expect(isClose(noiseResult.slow[0].total, optimized3.total_loss, rel: 1e-6), "\(noiseResult.slow[0].total) vs \(optimized3.total_loss)")
  }

  @Test func badInputGetsOneLine() throws {
    _ = try requireVGG(taps: ["relu1_1"])
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let photo = dir.file("photo.png"), painting = dir.file("painting.png")
    try StylizeTests.photo(width: 40, height: 30).write(to: photo)
    try StylizeTests.photo(width: 40, height: 30, seed: 2).write(to: painting)
    let model = try Self.model(dir)
    func expectError(_ args: [String], mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
      try expectPicassoError(["compare", "--output", dir.file("s.png")] + args, mentions: mentions, sourceLocation: sourceLocation)
      #expect(!FileManager.default.fileExists(atPath: dir.file("s.png")), sourceLocation: sourceLocation)
    }
    let deep = try Self.model(dir, contentLayers: ["relu6_1"])
    try expectError(["--model", deep, "--style", painting, "--size", "32", photo], mentions: ["relu6_1"])
    try expectError(["--model", model, "--style", dir.file("missing.jpg"), "--size", "32", photo], mentions: ["missing.jpg"])
    try Data("no".utf8).write(to: URL(fileURLWithPath: dir.file("bad.png")))
    try expectError(["--model", model, "--style", dir.file("bad.png"), "--size", "32", photo], mentions: ["bad.png"])
    try expectError(["--model", model, "--style", painting, "--iterations", ",", photo], mentions: ["--iterations", "no iteration"])
    try expectError(["--model", model, "--style", painting, "--iterations", "50,x", photo], mentions: ["--iterations"])
    try expectError(["--model", model, "--style", painting, "--style-size", "8", photo], mentions: ["--style-size"])
    try expectError(["--model", model, "--style", painting, "--init", "sky.png", photo], mentions: ["--init"])
    try expectError(["--model", model, "--style", painting, "--seed", "3", photo], mentions: ["--seed", "--init random"])
  }

  /// --snapshot: other models of the same objective are judged against the same optimiser
  /// runs (a copy of the model gets the model's numbers), and the curve is drawn; a model of
  /// another objective is refused.
  @Test func snapshotsAreJudgedAgainstTheSameOptimiserRun() throws {
    _ = try requireVGG(taps: ["relu1_1"])
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let model = try Self.model(dir)
    let photo = dir.file("photo.png"), painting = dir.file("painting.png")
    try StylizeTests.photo(width: 40, height: 30, seed: 1).write(to: photo)
    try StylizeTests.photo(width: 48, height: 36, seed: 9).write(to: painting)
    let other = try StyleModel.load(model)
    // Another network: the output's bias moved from 0.5 to 0.1 (darker everywhere).
    other.net.allLayers.compactMap { $0 as? Conv2D }.last!.bias.fill(0.1)
    other.trainingSeconds = 120
    try other.save(to: dir.file("other.h5"))

    let r = try runPicasso(["compare", "--model", model, "--snapshot", dir.file("other.h5"), "--snapshot", model, "--style", painting,
                            "--iterations", "4", "--size", "32", "--output", dir.file("sheet.png"), "--json", photo])
    #expect(r.status == 0, "\(r.stderr)")
    struct Snapshots: Decodable {
      struct Snapshot: Decodable { var training_minutes: Double; var totals: [Double]; var equivalent_iterations: [Int?] }
      var snapshots: [Snapshot]
    }
    let report = try JSONDecoder().decode(Report.self, from: Data(r.stdout.utf8)).photos[0]
    let snapshots = try JSONDecoder().decode(Snapshots.self, from: Data(r.stdout.utf8)).snapshots
    try #require(snapshots.count == 2)
    #expect(snapshots[0].training_minutes == 2)
    #expect(!isClose(snapshots[0].totals[0], report.fast.total, rel: 1e-3), "another network, the same losses")
    #expect(snapshots[0].equivalent_iterations[0] == report.slow_totals.firstIndex { $0 < snapshots[0].totals[0] }.map { $0 + 1 })
    #expect(isClose(snapshots[1].totals[0], report.fast.total, rel: 1e-6))
    #expect(snapshots[1].equivalent_iterations[0] == report.equivalent_iterations)
    #expect(FileManager.default.fileExists(atPath: dir.file("sheet-curve.png")))

    // --curves: the same judgement from the recorded optimiser run, without running it (its
    // photos by default); a run recorded under other settings is refused.
    let curves = dir.file("curves.json")
    try Data(r.stdout.utf8).write(to: URL(fileURLWithPath: curves))
    let again = try runPicasso(["compare", "--model", model, "--snapshot", dir.file("other.h5"), "--style", painting, "--size", "32",
                                "--curves", curves, "--output", dir.file("again.png"), "--json"])
    #expect(again.status == 0, "\(again.stderr)")
    #expect(!again.stderr.contains("L-BFGS loss"), "the optimiser ran again")
    let replayed = try JSONDecoder().decode(Report.self, from: Data(again.stdout.utf8)).photos
    let replayedSnapshots = try JSONDecoder().decode(Snapshots.self, from: Data(again.stdout.utf8)).snapshots
    try #require(replayed.count == 1 && replayedSnapshots.count == 1)
    #expect(replayed[0].slow_totals == report.slow_totals && replayed[0].slow.isEmpty)
    #expect(isClose(replayed[0].fast.total, report.fast.total, rel: 1e-6))
    #expect(replayed[0].equivalent_iterations == report.equivalent_iterations)
    #expect(replayedSnapshots[0].equivalent_iterations == snapshots[0].equivalent_iterations)
    #expect(FileManager.default.fileExists(atPath: dir.file("again.png")))
    try StylizeTests.photo(width: 40, height: 30, seed: 4).write(to: dir.file("unseen.png"))
    for (args, mentions) in [(["--init", "random"], ["--init content"]), (["--size", "24"], ["--size 32"]),
                             ([dir.file("unseen.png")], ["unseen.png", "photo.png"])] {
      try expectPicassoError(["compare", "--model", model, "--style", painting, "--size", "32", "--curves", curves,
                              "--output", dir.file("s3.png")] + args, mentions: ["--curves"] + mentions)
    }
    try expectPicassoError(["compare", "--model", model, "--style", painting, "--curves", dir.file("sheet.png"),
                            "--output", dir.file("s3.png")], mentions: ["--curves", "sheet.png"])

    let w = other.settings.weights
    other.retune(learningRate: 1e-3, decayEvery: 0, decayFactor: 0.5, weights: LossWeights(content: w.content, style: 1, tv: w.tv))
    try other.save(to: dir.file("elsewhere.h5"))
    try expectPicassoError(["compare", "--model", model, "--snapshot", dir.file("elsewhere.h5"), "--style", painting, "--size", "32",
                            "--output", dir.file("s2.png"), photo], mentions: ["elsewhere.h5", "another objective"])

    // --beside: a run of that other objective, judged by its own compare --json, is a line of
    // its own (named by its folder, at its model's minutes); a run judged from another start,
    // at another size or on other photos is refused before the optimiser runs.
    let recipe = dir.file("recipe2")
    try FileManager.default.createDirectory(atPath: recipe, withIntermediateDirectories: true)
    other.trainingSeconds = 300
    try other.save(to: recipe + "/elsewhere.h5")
    let side = try runPicasso(["compare", "--model", recipe + "/elsewhere.h5", "--style", painting, "--iterations", "4", "--size", "32",
                               "--output", dir.file("side.png"), "--json", photo])
    #expect(side.status == 0, "\(side.stderr)")
    let sideJSON = dir.file("side.json")
    try Data(side.stdout.utf8).write(to: URL(fileURLWithPath: sideJSON))
    let sideReport = try JSONDecoder().decode(Report.self, from: Data(side.stdout.utf8)).photos[0]
    let both = try runPicasso(["compare", "--model", model, "--snapshot", dir.file("other.h5"), "--style", painting, "--size", "32",
                               "--curves", curves, "--beside", sideJSON, "--output", dir.file("both.png"), "--json"])
    #expect(both.status == 0, "\(both.stderr)")
    struct Curves: Decodable {
      struct Curve: Decodable { var name: String; var minutes: [Double]; var mean_equivalent_iterations: [Double] }
      var curves: [Curve]
    }
    let lines = try JSONDecoder().decode(Curves.self, from: Data(both.stdout.utf8)).curves
    try #require(lines.count == 2)
    #expect(lines[0].minutes.count == 2 && lines[0].minutes.contains(2), "this run's model and its snapshot")
    #expect(lines[1].name == "RECIPE2" && lines[1].minutes == [5])
    #expect(lines[1].mean_equivalent_iterations == [Double(sideReport.equivalent_iterations ?? sideReport.slow_totals.count)])
    #expect(FileManager.default.fileExists(atPath: dir.file("both-curve.png")))
    for (args, mentions) in [(["--init", "random", photo], ["--init content"]), (["--size", "24", photo], ["--size 32"]),
                             ([dir.file("unseen.png")], ["unseen.png", "photo.png"])] {
      try expectPicassoError(["compare", "--model", model, "--style", painting, "--size", "32", "--beside", sideJSON,
                              "--output", dir.file("s4.png")] + args, mentions: ["--beside"] + mentions)
    }
  }
}
