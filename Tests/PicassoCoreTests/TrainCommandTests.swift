import Foundation
import PicassoCore
import Testing

/// `picasso dataset` and `picasso train` as a user runs them: bad input gets one clear
/// error line, a non-zero exit, and nothing already written is lost.
@Suite(.serialized)
struct TrainCommandTests {
  func expectError(_ args: [String], mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
    try expectPicassoError(args, mentions: mentions, sourceLocation: sourceLocation)
  }

  @Test func datasetCommand() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let folder = try TrainingTests.photos(dir, count: 7)
    let r = try runPicasso(["dataset", "--images", folder, "--output", dir.file("d.h5"), "--size", "32", "--val-count", "2"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("5 train and 2 validation images, 1 skipped"))
    #expect(r.stderr.contains("broken.jpg"))
    try FileManager.default.createDirectory(atPath: dir.file("empty"), withIntermediateDirectories: true)
    try expectError(["dataset", "--images", dir.file("empty"), "--output", dir.file("e.h5")], mentions: ["no JPEG or PNG"])
    try expectError(["dataset", "--images", dir.file("nowhere"), "--output", dir.file("e.h5")], mentions: ["nowhere", "no such folder"])
    #expect(!FileManager.default.fileExists(atPath: dir.file("e.h5")))
  }

  /// --exclude leaves out photos by contents (a renamed copy too); --photo-size is recorded
  /// and checked against --size.
  @Test func datasetExcludesAndRecordsPhotoSize() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let folder = try TrainingTests.photos(dir, count: 7)
    try FileManager.default.copyItem(atPath: folder + "/p0.png", toPath: dir.file("judged-on.png"))
    let r = try runPicasso(["dataset", "--images", folder, "--output", dir.file("d.h5"), "--size", "32", "--val-count", "2",
                            "--photo-size", "64", "--exclude", dir.file("judged-on.png"), folder + "/p2.png"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("left out 2 photos") && r.stderr.contains("3 train and 2 validation images"), "\(r.stderr)")
    let file = try HDF5File(dir.file("d.h5"))
    #expect(try file.number("photo_size") == 64)
    try expectError(["dataset", "--images", folder, "--output", dir.file("e.h5"), "--size", "32", "--photo-size", "16"],
                    mentions: ["--photo-size"])
    try expectError(["dataset", "--images", folder, "--output", dir.file("e.h5"), "--exclude", dir.file("none.png")],
                    mentions: ["none.png"])
  }

  @Test func trainRefusesBadInput() throws {
    try expectError(["train", "--dataset", "x.h5", "--style", "s.png", "--output", "m.h5", "--arch", "c9s1-32,d64", "--blocks", "2"],
                    mentions: ["--arch", "not both"])
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let folder = try TrainingTests.photos(dir, count: 7)
    _ = try runPicasso(["dataset", "--images", folder, "--output", dir.file("d.h5"), "--size", "32", "--val-count", "2"])
    let painting = dir.file("photos/p0.png")
    let common = ["--vgg", Paths.vgg, "--width", "2", "--blocks", "1", "--iterations", "2", "--batch-size", "2"]

    try expectError(["train", "--dataset", dir.file("missing.h5"), "--style", painting, "--output", dir.file("m.h5")] + common,
                    mentions: ["missing.h5", "no such dataset"])
    let bytes = try Data(contentsOf: URL(fileURLWithPath: dir.file("d.h5")))
    try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: dir.file("truncated.h5")))
    try expectError(["train", "--dataset", dir.file("truncated.h5"), "--style", painting, "--output", dir.file("m.h5")] + common,
                    mentions: ["truncated.h5"])
    _ = try HDF5File(dir.file("other.h5"), mode: .create)  // an HDF5 file, but not a dataset
    try expectError(["train", "--dataset", dir.file("other.h5"), "--style", painting, "--output", dir.file("m.h5")] + common,
                    mentions: ["not a picasso dataset"])
    try expectError(["train", "--dataset", Paths.vgg, "--style", painting, "--output", dir.file("m.h5")] + common,
                    mentions: ["vgg19.h5", "without metadata checksums"])
    try expectError(["train", "--dataset", dir.file("d.h5"), "--style", dir.file("photos/broken.jpg"), "--output", dir.file("m.h5")] + common,
                    mentions: ["broken.jpg"])
    try expectError(["train", "--dataset", dir.file("d.h5"), "--resume", "--output", dir.file("m.h5")] + common,
                    mentions: ["nothing to resume"])
    // --image-size: out of range, or larger than the dataset's photos: one line naming the flag, exit 2.
    for bad in ["8", "64"] {
      let r = try runPicasso(["train", "--dataset", dir.file("d.h5"), "--style", painting, "--output", dir.file("m.h5"), "--image-size", bad] + common)
      #expect(r.status == 2 && errorLine(r).contains("--image-size"), "--image-size \(bad): \(r.stderr)")
    }
    #expect(!FileManager.default.fileExists(atPath: dir.file("m.h5")))
    // Smaller than the dataset's photos: random-scale crops, and the model records the size.
    let crops = try runPicasso(["train", "--dataset", dir.file("d.h5"), "--style", painting, "--output", dir.file("c.h5"), "--image-size", "24"] + common)
    #expect(crops.status == 0 && crops.stderr.contains("random-scale crops of 24 px"), "\(crops.stderr)")
    #expect(try StyleModel.load(dir.file("c.h5")).settings.imageSize == 24)
    #expect(try StyleModel.load(dir.file("c.h5")).settings.datasetSize == 32)
    // Resumed on photos stored at another size, the crops would change: refused, naming both sizes.
    _ = try runPicasso(["dataset", "--images", folder, "--output", dir.file("d40.h5"), "--size", "40", "--val-count", "2"])
    try expectError(["train", "--dataset", dir.file("d40.h5"), "--resume", "--output", dir.file("c.h5"), "--iterations", "3",
                     "--vgg", Paths.vgg], mentions: ["40 px", "32 px", "--init-weights"])

    // A finished run, then a file claiming a future format: resume refuses it, unchanged.
    let ok = try runPicasso(["train", "--dataset", dir.file("d.h5"), "--style", painting, "--output", dir.file("m.h5")] + common)
    #expect(ok.status == 0, "\(ok.stderr)")
    for figure in ["m-loss.png", "m-preview.png"] { #expect(FileManager.default.fileExists(atPath: dir.file(figure))) }
    do {  // closed again before picasso opens it
      let file = try HDF5File(dir.file("m.h5"), mode: .readWrite)
      try file.setAttribute("format", .numbers([Double(StyleModel.formatVersion + 1)]))
    }
    try expectError(["train", "--dataset", dir.file("d.h5"), "--resume", "--output", dir.file("m.h5"), "--iterations", "3",
                     "--vgg", Paths.vgg], mentions: ["newer"])
    #expect(try HDF5File(dir.file("m.h5")).number("format") == Double(StyleModel.formatVersion + 1))
  }

  /// Ctrl-C writes a checkpoint and exits cleanly; --resume then continues from it.
  @Test func interruptWritesACheckpointAndResumeContinues() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let folder = try TrainingTests.photos(dir, count: 7)
    _ = try runPicasso(["dataset", "--images", folder, "--output", dir.file("d.h5"), "--size", "32", "--val-count", "2"])
    let process = Process()
    process.executableURL = URL(fileURLWithPath: picassoExecutable)
    process.arguments = ["train", "--dataset", dir.file("d.h5"), "--style", dir.file("photos/p0.png"), "--output", dir.file("m.h5"),
                         "--vgg", Paths.vgg, "--width", "2", "--blocks", "1", "--batch-size", "2", "--iterations", "100000",
                         "--checkpoint-every", "100000", "--validate-every", "100000"]
    let err = Pipe()
    process.standardError = err
    try process.run()
    // Wait for the start line (printed once the handler is installed), then a few steps.
    var text = ""
    while !text.contains("train: "), process.isRunning {
      text += String(decoding: err.fileHandleForReading.availableData, as: UTF8.self)
    }
    Thread.sleep(forTimeInterval: 1)
    process.interrupt()
    text += String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 130, "\(text)")
    #expect(text.contains("interrupted; checkpoint at iteration"))
    let saved = try StyleModel.load(dir.file("m.h5"))
    let iteration = try #require(saved.checkpoint?.iteration)
    #expect(iteration > 0)
    let resumed = try runPicasso(["train", "--dataset", dir.file("d.h5"), "--output", dir.file("m.h5"), "--resume",
                                  "--iterations", "\(iteration + 2)", "--vgg", Paths.vgg])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(try StyleModel.load(dir.file("m.h5")).checkpoint?.iteration == iteration + 2)
  }

  /// Checkpoints (the model file, the loss plot, the preview) leave the run as it was: with or
  /// without an average, a run that writes one after every step ends with the weights and
  /// the validation losses of one that writes only at its end. The preview renders with a
  /// copy; rendering with the network that trains switched it to folded upsampling, whose
  /// backward pass read past its gradient (a crash or a silent divergence of runs without
  /// an average).
  @Test(arguments: ["0", "0.5"]) func checkpointsLeaveTheRunAsItWas(averageDecay: String) throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let folder = try TrainingTests.photos(dir, count: 7)
    _ = try runPicasso(["dataset", "--images", folder, "--output", dir.file("d.h5"), "--size", "32", "--val-count", "2"])
    var models: [StyleModel] = []
    for every in ["1", "100"] {
      let r = try runPicasso(["train", "--dataset", dir.file("d.h5"), "--style", dir.file("photos/p0.png"), "--output", dir.file("m\(every).h5"),
                              "--vgg", Paths.vgg, "--width", "2", "--blocks", "1", "--batch-size", "2", "--threads", "2", "--iterations", "4",
                              "--base", "none", "--average-decay", averageDecay, "--checkpoint-every", every, "--validate-every", "1"])
      #expect(r.status == 0, "\(r.stderr)")
      models.append(try StyleModel.load(dir.file("m\(every).h5")))
    }
    #expect(models[0].valHistory.count == 4)
    #expect(models[0].valHistory.map(\.losses.total) == models[1].valHistory.map(\.losses.total))
    let differing = zip(models[0].net.parameters, models[1].net.parameters).filter { $0.array != $1.array }.count
    #expect(differing == 0, "\(differing) of \(models[0].net.parameters.count) weight tensors differ")
  }

  /// --resume keeps the thread count the run was started with (a run is repeatable for a
  /// given count) and reads the dataset the run was trained on unless --dataset says
  /// otherwise: a run of one thread resumed with neither ends bit-identical to one
  /// uninterrupted run of one thread, and says where its count came from. A dataset that is
  /// no longer there is named, with the flag that gives another.
  @Test func resumeKeepsTheThreadCount() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let folder = try TrainingTests.photos(dir, count: 7)
    _ = try runPicasso(["dataset", "--images", folder, "--output", dir.file("d.h5"), "--size", "32", "--val-count", "2"])
    let common = ["--dataset", dir.file("d.h5"), "--vgg", Paths.vgg]
    let new = common + ["--style", dir.file("photos/p0.png"), "--width", "2", "--blocks", "1", "--batch-size", "2", "--base", "none", "--threads", "1"]
    let whole = try runPicasso(["train", "--output", dir.file("whole.h5"), "--iterations", "4"] + new)
    #expect(whole.status == 0, "\(whole.stderr)")
    let first = try runPicasso(["train", "--output", dir.file("parts.h5"), "--iterations", "2"] + new)
    #expect(first.status == 0, "\(first.stderr)")
    let resumed = try runPicasso(["train", "--output", dir.file("parts.h5"), "--resume", "--iterations", "4", "--vgg", Paths.vgg])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stderr.contains("1 thread (as the run was started"), "\(resumed.stderr)")
    let (a, b) = (try StyleModel.load(dir.file("whole.h5")), try StyleModel.load(dir.file("parts.h5")))
    #expect(b.checkpoint?.threads == 1)
    #expect(zip(a.net.parameters, b.net.parameters).allSatisfy { $0.array == $1.array }, "the resumed run parted from the whole one")
    try FileManager.default.moveItem(atPath: dir.file("d.h5"), toPath: dir.file("moved.h5"))
    try expectError(["train", "--output", dir.file("parts.h5"), "--resume", "--iterations", "5", "--vgg", Paths.vgg],
                    mentions: ["d.h5", "--dataset"])
    try expectError(["train", "--output", dir.file("new.h5"), "--style", dir.file("photos/p0.png"), "--vgg", Paths.vgg],
                    mentions: ["--dataset"])
  }

  /// A weights-only model (--float16, no checkpoint) cannot be resumed, but --init-weights
  /// continues from its weights, iteration count and histories with a fresh Adam.
  @Test func initWeightsContinuesAWeightsOnlyModel() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let folder = try TrainingTests.photos(dir, count: 7)
    _ = try runPicasso(["dataset", "--images", folder, "--output", dir.file("d.h5"), "--size", "32", "--val-count", "2"])
    let first = try runPicasso(["train", "--dataset", dir.file("d.h5"), "--style", dir.file("photos/p0.png"), "--output", dir.file("m.h5"),
                                "--vgg", Paths.vgg, "--arch", "c9s1-2,d4,d4,R4,u4,u2,c9s1-3", "--batch-size", "2", "--iterations", "3",
                                "--float16"])
    #expect(first.status == 0, "\(first.stderr)")
    try expectError(["train", "--dataset", dir.file("d.h5"), "--output", dir.file("m.h5"), "--resume", "--vgg", Paths.vgg],
                    mentions: ["m.h5", "no checkpoint"])
    try expectError(["train", "--dataset", dir.file("d.h5"), "--output", dir.file("n.h5"), "--init-weights", dir.file("m.h5"),
                     "--resume"], mentions: ["--init-weights"])
    try expectError(["train", "--dataset", dir.file("d.h5"), "--output", dir.file("n.h5"), "--init-weights", dir.file("m.h5"),
                     "--iterations", "3", "--vgg", Paths.vgg], mentions: ["already at iteration 3"])
    // …except to store it finished: --float16 with no iteration left converts it.
    let stored = try runPicasso(["train", "--dataset", dir.file("d.h5"), "--output", dir.file("h.h5"), "--init-weights", dir.file("m.h5"),
                                 "--iterations", "3", "--float16", "--vgg", Paths.vgg])
    #expect(stored.status == 0, "\(stored.stderr)")
    #expect(try StyleModel.load(dir.file("h.h5")).trainHistory.count == 3)
    let next = try runPicasso(["train", "--dataset", dir.file("d.h5"), "--output", dir.file("n.h5"), "--init-weights", dir.file("m.h5"),
                               "--iterations", "5", "--vgg", Paths.vgg])
    #expect(next.status == 0, "\(next.stderr)")
    let source = try StyleModel.load(dir.file("m.h5")), continued = try StyleModel.load(dir.file("n.h5"))
    #expect(continued.trainHistory.map(\.iteration) == [1, 2, 3, 4, 5])
    #expect(continued.settings.architecture == source.settings.architecture && continued.checkpoint?.iteration == 5)
    #expect(continued.settings.weights == source.settings.weights && continued.settings.learningRate == source.settings.learningRate)
    // Fine-tuning with other loss weights and learning rate: they replace the model's and are
    // stored; --resume refuses them (it continues exactly).
    let tuned = try runPicasso(["train", "--dataset", dir.file("d.h5"), "--output", dir.file("t.h5"), "--init-weights", dir.file("m.h5"),
                                "--iterations", "4", "--content-weight", "3", "--learning-rate", "2e-4", "--lr-decay-every", "2",
                                "--lr-decay-factor", "0.25", "--average-decay", "0.5", "--grid-weight", "50", "--vgg", Paths.vgg])
    #expect(tuned.status == 0, "\(tuned.stderr)")
    #expect(tuned.stderr.contains("iter 4  lr 5e-05"), "\(tuned.stderr)")  // 2e-4 · 0.25: m.h5 had 3 iterations
    let t = try StyleModel.load(dir.file("t.h5"))
    #expect(t.settings.weights == LossWeights(content: 3, style: source.settings.weights.style, tv: source.settings.weights.tv))
    #expect(t.settings.learningRate == 2e-4)
    #expect(t.settings.learningRateDecayEvery == 2 && t.settings.learningRateDecayFactor == 0.25)
    #expect(t.settings.averageDecay == 0.5 && source.settings.averageDecay == StyleModel.Settings().averageDecay)
    #expect(t.checkpoint?.averageSteps == 1 && t.checkpoint?.weights.count == t.net.parameters.count)
    #expect(t.settings.gridWeight == 50 && source.settings.gridWeight == StyleModel.Settings().gridWeight)
    #expect(tuned.stderr.contains("grid loss weight 50") && tuned.stderr.contains(" grid "), "\(tuned.stderr)")
    try expectError(["train", "--dataset", dir.file("d.h5"), "--output", dir.file("t.h5"), "--resume", "--style-weight", "2",
                     "--vgg", Paths.vgg], mentions: ["--init-weights"])
    try expectError(["train", "--dataset", dir.file("d.h5"), "--output", dir.file("t.h5"), "--init-weights", dir.file("m.h5"),
                     "--learning-rate", "-1"], mentions: ["--learning-rate"])
    try expectError(["train", "--dataset", dir.file("d.h5"), "--output", dir.file("t.h5"), "--resume", "--lr-decay-every", "100",
                     "--vgg", Paths.vgg], mentions: ["--init-weights"])
    try expectError(["train", "--dataset", dir.file("d.h5"), "--output", dir.file("t.h5"), "--init-weights", dir.file("m.h5"),
                     "--lr-decay-factor", "2"], mentions: ["--lr-decay-factor"])
    try expectError(["train", "--dataset", dir.file("d.h5"), "--output", dir.file("t.h5"), "--resume", "--average-decay", "0",
                     "--vgg", Paths.vgg], mentions: ["--init-weights"])
    for bad in ["1", "-0.1", "nan"] {
      try expectError(["train", "--dataset", dir.file("d.h5"), "--output", dir.file("t.h5"), "--init-weights", dir.file("m.h5"),
                       "--average-decay", bad], mentions: ["--average-decay"])
    }
    try expectError(["train", "--dataset", dir.file("d.h5"), "--output", dir.file("t.h5"), "--resume", "--grid-weight", "1",
                     "--vgg", Paths.vgg], mentions: ["--init-weights"])
    for bad in ["-1", "nan", "inf"] {
      try expectError(["train", "--dataset", dir.file("d.h5"), "--output", dir.file("t.h5"), "--init-weights", dir.file("m.h5"),
                       "--grid-weight", bad], mentions: ["--grid-weight"])
    }
  }

  /// A loss that overflows stops training with a message and keeps the last good checkpoint.
  @Test func nonFiniteLossStopsAndKeepsTheCheckpoint() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let folder = try TrainingTests.photos(dir, count: 7)
    _ = try runPicasso(["dataset", "--images", folder, "--output", dir.file("d.h5"), "--size", "32", "--val-count", "2"])
    let r = try runPicasso(["train", "--dataset", dir.file("d.h5"), "--style", dir.file("photos/p0.png"), "--output", dir.file("m.h5"),
                            "--vgg", Paths.vgg, "--width", "2", "--blocks", "1", "--batch-size", "2", "--iterations", "50",
                            "--learning-rate", "1e30", "--checkpoint-every", "1", "--validate-every", "100"])
    #expect(r.status != 0)
    #expect(errorLine(r).contains("the loss became"), "\(r.stderr)")
    let saved = try StyleModel.load(dir.file("m.h5"))
    let iteration = try #require(saved.checkpoint?.iteration)
    #expect(iteration >= 1 && iteration < 50)
  }

  /// --time: bad budgets get one line and exit 2; a short budget stops with a finished,
  /// loadable model; a budget too short for one step writes nothing.
  @Test func timeBudgetStopsWithAFinishedModel() throws {
    for bad in ["0", "5x", "-1m", "0s", "m", "1.5"] {
      let r = try runPicasso(["train", "--dataset", "d.h5", "--style", "s.png", "--output", "m.h5", "--time", bad])
      #expect(r.status == 2, "--time \(bad): \(r.stderr)")
      #expect(r.stderr.split(separator: "\n").count == 1 && errorLine(r).contains("--time"), "\(r.stderr)")
    }
    try expectError(["train", "--dataset", "d.h5", "--style", "s.png", "--output", "m.h5", "--threads", "0"], mentions: ["--threads"])

    let dir = TemporaryFolder()
    defer { dir.remove() }
    let folder = try TrainingTests.photos(dir, count: 7)
    _ = try runPicasso(["dataset", "--images", folder, "--output", dir.file("d.h5"), "--size", "32", "--val-count", "2"])
    let common = ["--dataset", dir.file("d.h5"), "--style", dir.file("photos/p0.png"), "--vgg", Paths.vgg, "--width", "2",
                  "--blocks", "1", "--iterations", "100000"]
    let started = Date()
    // 30 s: room for a first step of a debug build under a sanitizer.
    let r = try runPicasso(["train", "--output", dir.file("m.h5"), "--time", "30s"] + common)
    let seconds = Date().timeIntervalSince(started)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("--time 30s reached"), "\(r.stderr)")
    #expect(seconds < 30 + 5, "took \(seconds) s")  // the process's own start and exit on top of the budget
    let model = try StyleModel.load(dir.file("m.h5"))
    let iteration = try #require(model.checkpoint?.iteration)
    #expect(iteration >= 1 && iteration < 100000)
    #expect(model.valHistory.last?.iteration == iteration)  // validated at the end, as a finished run
    for figure in ["m-loss.png", "m-preview.png"] { #expect(FileManager.default.fileExists(atPath: dir.file(figure))) }

    // Too short for one step: says so, exits non-zero, writes no model.
    let short = try runPicasso(["train", "--output", dir.file("s.h5"), "--time", "0.001s"] + common)
    #expect(short.status != 0)
    #expect(short.stderr.contains("too short for one step"), "\(short.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir.file("s.h5")))
  }

  /// --base: a new run starts from the base model's weights (the default base only where its
  /// network is the same); a base of another network is refused, and so is --base with --resume.
  @Test func newRunsStartFromABase() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let folder = try TrainingTests.photos(dir, count: 7)
    _ = try runPicasso(["dataset", "--images", folder, "--output", dir.file("d.h5"), "--size", "32", "--val-count", "2"])
    let common = ["--dataset", dir.file("d.h5"), "--style", dir.file("photos/p0.png"), "--vgg", Paths.vgg, "--width", "2", "--blocks", "1",
                  "--checkpoint-every", "100", "--validate-every", "100"]
    let made = try runPicasso(["train", "--output", dir.file("base.h5"), "--iterations", "2", "--seed", "5", "--base", "none"] + common)
    #expect(made.status == 0, "\(made.stderr)")
    // A learning rate too small to move anything: the run's weights are the base's.
    let r = try runPicasso(["train", "--output", dir.file("m.h5"), "--iterations", "1", "--base", dir.file("base.h5"),
                            "--learning-rate", "1e-30"] + common)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("from \(dir.file("base.h5"))"))
    let base = try StyleModel.load(dir.file("base.h5")), model = try StyleModel.load(dir.file("m.h5"))
    #expect(model.trainHistory.map(\.iteration) == [1])
    for (p, q) in zip(base.net.parameters, model.net.parameters) { #expect(p.array == q.array) }
    // Without --base the tiny network starts from random weights (Models/base.h5 is for the default network).
    let fresh = try runPicasso(["train", "--output", dir.file("f.h5"), "--iterations", "1", "--learning-rate", "1e-30"] + common)
    #expect(fresh.status == 0 && !fresh.stderr.contains("from "), "\(fresh.stderr)")
    #expect(try StyleModel.load(dir.file("f.h5")).net.parameters[0].array != base.net.parameters[0].array)

    try expectError(["train", "--output", dir.file("w.h5"), "--iterations", "1", "--base", dir.file("base.h5"), "--dataset", dir.file("d.h5"),
                     "--style", dir.file("photos/p0.png"), "--vgg", Paths.vgg, "--width", "4", "--blocks", "1"], mentions: ["base.h5", "network"])
    let both = try runPicasso(["train", "--output", dir.file("m.h5"), "--resume", "--base", dir.file("base.h5"), "--dataset", dir.file("d.h5")])
    #expect(both.status == 2 && errorLine(both).contains("--base"), "\(both.stderr)")
  }
}
