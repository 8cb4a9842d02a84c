import Foundation
import PicassoCore
import Testing

/// Datasets, model files and the trainer, on tiny photos and a tiny network.
///
/// One test at a time: OpenBLAS's thread count is one setting for the process, and a
/// data-parallel step sets it to 1 while it runs, so a one-pass trainer beside it would run
/// some GEMMs on one thread and some on two. With OpenBLAS's SSE3 kernels (what a test process
/// gets on an Emerald Rapids Xeon) that changes the last bits, and the bit-for-bit resume test
/// failed one run in two. Only this suite runs trainers in the test process.
@Suite(.serialized)
struct TrainingTests {
  /// Writes `count` small generated photos (different sizes, PNG and JPEG) into a folder.
  static func photos(_ dir: TemporaryFolder, count: Int) throws -> String {
    let folder = dir.file("photos")
    try FileManager.default.createDirectory(atPath: folder + "/nested", withIntermediateDirectories: true)
    for i in 0..<count {
      let (w, h) = (40 + 3 * i, 36 + 2 * (i % 3))
      var p: [UInt8] = []
      for y in 0..<h { for x in 0..<w { p += [UInt8((x * (i + 3)) % 256), UInt8((y * 5 + i * 20) % 256), UInt8(((x + y) * 3) % 256)] } }
      let path = i % 2 == 0 ? "\(folder)/p\(i).png" : "\(folder)/nested/p\(i).jpg"
      try RGBImage(width: w, height: h, pixels: p).write(to: path)
    }
    try Data("not an image".utf8).write(to: URL(fileURLWithPath: folder + "/broken.jpg"))
    try Data("notes".utf8).write(to: URL(fileURLWithPath: folder + "/readme.txt"))
    return folder
  }

  /// keepScale crops the photo as it is: the centre crop of a 64×48 picture is its middle
  /// 32×32 pixels, where the default scales the shorter side to 32 first.
  @Test func cropsKeepThePhotosScale() throws {
    var pixels: [UInt8] = []
    for y in 0..<48 { for x in 0..<64 { pixels += [UInt8(x * 4), UInt8(y * 5), 7] } }
    let photo = RGBImage(width: 64, height: 48, pixels: pixels)
    let kept = PhotoDataset.centreCrop(photo, size: 32, keepScale: true)
    #expect(kept.pixels[0] == UInt8(16 * 4) && kept.pixels[1] == UInt8(8 * 5))  // pixel (16, 8) of the photo
    let scaled = PhotoDataset.centreCrop(photo, size: 32)
    #expect(scaled.pixels[0] != kept.pixels[0])
  }

  @Test func datasetHoldsCentreCropsAndListsBadFiles() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let folder = try Self.photos(dir, count: 7)
    let found = try PhotoDataset.findPhotos(in: [folder])
    #expect(found.count == 8)  // 7 photos + broken.jpg; readme.txt is not a photo
    let summary = try PhotoDataset.build(photos: found, sources: [folder], output: dir.file("d.h5"), size: 32, valCount: 2,
                                         cropsPerImage: 2, seed: 1)
    #expect(summary.val == 2 && summary.train == 10 && summary.skipped.count == 1)
    #expect(summary.skipped[0].path.hasSuffix("broken.jpg"))
    let reader = try DatasetReader(dir.file("d.h5"))
    #expect(reader.size == 32 && reader.counts[.train] == 10 && reader.counts[.val] == 2)
    let batch = Tensor(shape: [2, 3, 32, 32])
    try reader.read(.train, indices: [0, 9], into: batch)
    #expect(batch.maxAbs() <= 1 && batch.sum() > 0)
    let flipped = Tensor(shape: [2, 3, 32, 32])
    try reader.read(.train, indices: [0, 9], flips: [true, false], into: flipped)
    #expect(flipped.data[0] == batch.data[31] && flipped.data[2 * 3 * 32 * 32 - 1] == batch.data[2 * 3 * 32 * 32 - 1])

    // Random-scale crops: a window of the batch's side is copied (mirrored when flipped); a
    // window twice the side averages each 2×2 block (bilinear between pixel centres lands
    // halfway); no window means the whole photo.
    func stored(_ image: Int, _ c: Int, _ y: Int, _ x: Int) -> Float { batch.data[((image * 3 + c) * 32 + y) * 32 + x] }
    let crops = Tensor(shape: [2, 3, 24, 24])
    let windows = [DatasetReader.Window(x: 3, y: 5, side: 24), DatasetReader.Window(x: 8, y: 0, side: 24)]
    try reader.read(.train, indices: [0, 9], flips: [false, true], windows: windows, into: crops)
    for (c, y, x) in [(0, 0, 0), (1, 7, 11), (2, 23, 23)] {
      #expect(crops.data[(c * 24 + y) * 24 + x] == stored(0, c, 5 + y, 3 + x))
      #expect(crops.data[((3 + c) * 24 + y) * 24 + x] == stored(1, c, y, 8 + 23 - x))
    }
    let halves = Tensor(shape: [2, 3, 16, 16]), whole = Tensor(shape: [2, 3, 16, 16])
    try reader.read(.train, indices: [0, 9], windows: Array(repeating: .init(x: 0, y: 0, side: 32), count: 2), into: halves)
    try reader.read(.train, indices: [0, 9], into: whole)
    #expect(halves.array == whole.array)
    for (c, y, x) in [(0, 0, 0), (1, 5, 9), (2, 15, 15)] {
      let mean = (stored(0, c, 2 * y, 2 * x) + stored(0, c, 2 * y, 2 * x + 1) + stored(0, c, 2 * y + 1, 2 * x) + stored(0, c, 2 * y + 1, 2 * x + 1)) / 4
      #expect(abs(halves.data[(c * 16 + y) * 16 + x] - mean) < 1e-6)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }.isEmpty)
  }

  @Test func badDatasetsAreRefused() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    #expect { try DatasetReader(dir.file("missing.h5")) } throws: { "\($0)".contains("missing.h5") }
    let wrong = try HDF5File(dir.file("wrong.h5"), mode: .create)
    try wrong.write("images", shape: [1, 3, 4, 4], bytes: [UInt8](repeating: 0, count: 48))
    wrong.flush()
    #expect { try DatasetReader(dir.file("wrong.h5")) } throws: { "\($0)".contains("train/images") }
    try Data("HDF5? no".utf8).write(to: URL(fileURLWithPath: dir.file("junk.h5")))
    #expect { try DatasetReader(dir.file("junk.h5")) } throws: { "\($0)".contains("junk.h5") }
    try FileManager.default.createDirectory(atPath: dir.file("empty"), withIntermediateDirectories: true)
    #expect(try PhotoDataset.findPhotos(in: [dir.file("empty")]).isEmpty)
    #expect { try PhotoDataset.findPhotos(in: [dir.file("nowhere")]) } throws: { "\($0)".contains("nowhere") }
  }

  /// A 32 px dataset of 7 generated photos in `dir` (d.h5), and a generated painting; needs VGG.
  static func trainingSet(_ dir: TemporaryFolder) throws -> (DatasetReader, RGBImage) {
    let folder = try photos(dir, count: 7)
    _ = try PhotoDataset.build(photos: try PhotoDataset.findPhotos(in: [folder]), sources: [folder], output: dir.file("d.h5"),
                               size: 32, valCount: 2, seed: 1)
    _ = try requireVGG(taps: ["relu2_2"])
    return (try DatasetReader(dir.file("d.h5")), RGBImage(width: 32, height: 32, pixels: (0..<(32 * 32 * 3)).map { UInt8(($0 * 7) % 256) }))
  }

  static func tinySettings(dataset: String) -> StyleModel.Settings {
    var s = StyleModel.Settings()
    s.architecture = .init(widths: [2, 4, 4], blocks: 1)
    s.styleName = "generated"
    s.styleSize = [32, 32]
    s.contentLayers = ["relu2_2"]
    s.styleLayers = ["relu1_2", "relu2_2"]
    s.weights = LossWeights(content: 1, style: 30, tv: 1)
    s.imageSize = 32
    s.batchSize = 2
    s.iterations = 6
    s.seed = 42
    s.dataset = dataset
    s.averageDecay = 0  // the model's weights are the trained ones (averagingIsTheBiasCorrectedMean checks the average)
    return s
  }

  /// A data-parallel step (the batch split over threads, each with its own networks) has the
  /// losses and the summed gradient of one pass over the whole batch, within float rounding;
  /// an uneven split (3 photos over 2 threads) included.
  @Test(arguments: [(2, 2), (3, 2), (3, 3), (4, 2), (2, 1)])
  func dataParallelStepEqualsOnePass(batch: Int, workers: Int) throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let (data, style) = try Self.trainingSet(dir)
    var settings = Self.tinySettings(dataset: dir.file("d.h5"))
    settings.batchSize = batch
    settings.weights.tv = 30  // TV is a sum over the batch, the others means: both kinds must weigh right
    settings.gridWeight = 1e4  // a sum over the batch as TV, outside the report
    let one = StyleModel(settings: settings), many = StyleModel(settings: settings), again = StyleModel(settings: settings)
    let a = try Trainer(model: one, dataset: data, style: style, vggPath: Paths.vgg, workers: 1)
    let b = try Trainer(model: many, dataset: data, style: style, vggPath: Paths.vgg, workers: workers)
    // The same one pass with OpenBLAS on one thread: how far rounding alone moves this tiny
    // network's gradients on this machine. With OpenBLAS's Haswell kernels (AMD Zen 3) the
    // batch of 3 in one pass moved by up to 0.7 % between one and two BLAS threads, while
    // every GEMM of the step agreed within 1e-5 of its largest element: the tiny network
    // amplifies rounding beyond what the fixed 1e-4 alone allowed.
    let c = try Trainer(model: again, dataset: data, style: style, vggPath: Paths.vgg, workers: 1)
    #expect(a.workers == 1 && b.workers == workers)
    for step in 0..<2 {  // the second step checks that the other threads' networks got the new weights
      let (ra, rb) = (try a.step(), try b.step())
      let saved = blasThreads
      blasThreads = 1
      _ = try c.step()
      blasThreads = saved
      for (x, y) in [(ra.total, rb.total), (ra.content, rb.content), (ra.style, rb.style), (ra.tv, rb.tv)] {
        #expect(isClose(x, y, rel: 1e-5), "\(ra) vs \(rb)")
      }
      #expect(a.grid > 0 && isClose(a.grid, b.grid, rel: 1e-5), "grid \(a.grid) vs \(b.grid)")
      // Each tensor within 1e-4 of its largest element, beside rounding noise at 1e-5 of the
      // network's largest gradient (a conv bias before an instance norm has a gradient of
      // exactly zero in real arithmetic: only rounding noise is left of it, the sum of a
      // plane's input gradients; the first conv's bias, summed in eight partial sums, moved by
      // 0.20 between one and two BLAS threads with the largest gradient at 1.9e5, 1.04e-6).
      // Beyond that, twice the rounding measured above: a photo of the batch weighed wrong
      // moves a gradient by a third of itself, far outside either.
      let largest = one.net.gradients.map { $0.maxAbs() }.max()!
      for (k, (g, (h, r))) in zip(one.net.gradients, zip(many.net.gradients, again.net.gradients)).enumerated() {
        var (worst, rounding): (Float, Float) = (0, 0)
        for i in 0..<g.count { (worst, rounding) = (max(worst, abs(g.data[i] - h.data[i])), max(rounding, abs(g.data[i] - r.data[i]))) }
        #expect(rounding <= 1e-2 * g.maxAbs() + 1e-5 * largest, "step \(step + 1), gradient \(k): rounding alone moved it by \(rounding) of \(g.maxAbs())")
        #expect(worst <= 1e-4 * g.maxAbs() + 1e-5 * largest + 2 * rounding,
                "step \(step + 1), gradient \(k) \(g.shape): off by \(worst) of \(g.maxAbs()) (rounding \(rounding))")
      }
      // Both go on from the same weights: Adam's first step is about ±learning rate for every
      // weight, whatever the size of its gradient, so where a gradient is rounding noise (a
      // bias before an instance norm) the two runs' weights would part by 2e-3 and their
      // second gradients by more than rounding (seen with OpenBLAS's SSE3 kernels).
      for (p, q) in zip(many.net.parameters, one.net.parameters) { p.copy(from: q) }
      for (p, q) in zip(again.net.parameters, one.net.parameters) { p.copy(from: q) }
    }
  }

  /// A run interrupted after 3 steps (checkpoint saved and loaded into a new trainer) ends
  /// with exactly the weights of a run that was not interrupted, in one pass or data-parallel,
  /// with and without a running average of the weights (and the grid loss), and on
  /// random-scale crops (24 px from the 32 px photos: the windows come from the stored random state).
  @Test(arguments: [(1, Float(0), 32), (2, 0, 32), (1, 0.9, 32), (2, 0.9, 24)])
  func resumedTrainingEqualsUninterruptedTraining(workers: Int, averageDecay: Float, imageSize: Int) throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let (data, style) = try Self.trainingSet(dir)

    // With a learning-rate schedule that halves the rate every 2 steps, across the resume point.
    var settings = Self.tinySettings(dataset: dir.file("d.h5"))
    settings.learningRateDecayEvery = 2
    settings.averageDecay = averageDecay
    settings.gridWeight = averageDecay > 0 ? 1e4 : 0  // its weight must come back from the file too
    settings.imageSize = imageSize
    let straight = StyleModel(settings: settings)
    let a = try Trainer(model: straight, dataset: data, style: style, vggPath: Paths.vgg, workers: workers)
    for _ in 0..<6 { try a.step() }

    let first = StyleModel(settings: settings)
    let b = try Trainer(model: first, dataset: data, style: style, vggPath: Paths.vgg, workers: workers)
    var losses: [Double] = []
    for _ in 0..<3 { losses.append(try b.step().total) }
    first.trainHistory = [.init(iteration: 3, losses: LossReport())]
    b.recordCheckpoint()
    try first.save(to: dir.file("m.h5"))

    let loaded = try StyleModel.load(dir.file("m.h5"))
    #expect(loaded.settings == first.settings)
    #expect(loaded.checkpoint?.iteration == 3)
    #expect(loaded.trainHistory.count == 1)
    let c = try Trainer(model: loaded, dataset: data, style: style, vggPath: Paths.vgg, workers: workers)
    #expect(c.iteration == 3)
    for _ in 0..<3 { try c.step() }
    for (p, q) in zip(straight.net.parameters, loaded.net.parameters) { #expect(p.array == q.array) }
    for (p, q) in zip(a.network.parameters, c.network.parameters) { #expect(p.array == q.array) }
    #expect(c.averageSteps == (averageDecay > 0 ? 6 : 0))
    #expect(losses.allSatisfy { $0.isFinite })
    if imageSize < data.size { #expect(a.network.forward(Tensor(shape: [1, 3, 24, 24])).shape == [1, 3, 24, 24]) }
    #expect(try a.validate().total.isFinite)
  }

  /// With averaging, Adam's weights follow the same path as without, and the model's weights
  /// are their mean weighted by (1 − β)·β^(t−k) / (1 − βᵗ), computed here in Double; the file
  /// stores the average as the model and the trained weights in the checkpoint.
  @Test func averagingIsTheBiasCorrectedMean() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let (data, style) = try Self.trainingSet(dir)
    let plain = Self.tinySettings(dataset: dir.file("d.h5"))
    var averaged = plain
    averaged.averageDecay = 0.8
    let (m0, m1) = (StyleModel(settings: plain), StyleModel(settings: averaged))
    let (a, b) = (try Trainer(model: m0, dataset: data, style: style, vggPath: Paths.vgg),
                  try Trainer(model: m1, dataset: data, style: style, vggPath: Paths.vgg))
    #expect(a.network === m0.net && b.network !== m1.net)
    var history: [[[Float]]] = []  // per step, per tensor
    for t in 1...5 {
      #expect(try a.step().total == (try b.step().total))
      history.append(m0.net.parameters.map(\.array))
      for (p, q) in zip(m0.net.parameters, b.network.parameters) { #expect(p.array == q.array) }
      let beta = 0.8
      var worst = 0.0, moved = 0.0
      for (k, p) in m1.net.parameters.enumerated() {
        for i in 0..<p.count {
          var mean = 0.0
          for (s, w) in history.enumerated() { mean += (1 - beta) * pow(beta, Double(t - 1 - s)) * Double(w[k][i]) }
          mean /= 1 - pow(beta, Double(t))
          worst = max(worst, abs(Double(p.data[i]) - mean))
          moved = max(moved, abs(Double(history[t - 1][k][i]) - mean))
        }
      }
      #expect(worst < 2e-6, "step \(t): the average is off by \(worst)")
      #expect(t == 1 ? moved < 1e-9 : moved > 1e-4, "step \(t): the average is the last weights")
    }
    b.recordCheckpoint()
    try m1.save(to: dir.file("m.h5"))
    let loaded = try StyleModel.load(dir.file("m.h5"))
    #expect(loaded.settings.averageDecay == 0.8)
    #expect(loaded.net.parameters.map(\.array) == m1.net.parameters.map(\.array))
    #expect(loaded.checkpoint?.weights.map(\.array) == b.network.parameters.map(\.array))
    #expect(loaded.checkpoint?.averageSteps == 5)
    // The finished (float16) file holds the average.
    try m1.save(to: dir.file("f.h5"), float16: true)
    let finished = try StyleModel.load(dir.file("f.h5"))
    let p = finished.net.parameters[0], q = m1.net.parameters[0]
    #expect(finished.checkpoint == nil)
    #expect((0..<p.count).allSatisfy { abs(p.data[$0] - q.data[$0]) <= 1e-3 * abs(q.data[$0]) + 1e-6 })
  }

  @Test func learningRateDecaysOnSchedule() throws {
    var s = Self.tinySettings(dataset: "d.h5")
    #expect((0..<5).map { s.learningRate(after: $0) } == [Float](repeating: 1e-3, count: 5))
    (s.learningRateDecayEvery, s.learningRateDecayFactor) = (2, 0.5)
    #expect((0..<5).map { s.learningRate(after: $0) } == [1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4])
    // The trainer uses it: with a factor of 0 after the first step, the second moves nothing.
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let folder = try Self.photos(dir, count: 4)
    _ = try PhotoDataset.build(photos: try PhotoDataset.findPhotos(in: [folder]), sources: [folder], output: dir.file("d.h5"),
                               size: 32, valCount: 1, seed: 1)
    _ = try requireVGG(taps: ["relu2_2"])
    (s.learningRateDecayEvery, s.learningRateDecayFactor) = (1, 0)
    let model = StyleModel(settings: s)
    let trainer = try Trainer(model: model, dataset: try DatasetReader(dir.file("d.h5")), style: RGBImage(width: 32, height: 32, pixels: [UInt8](repeating: 90, count: 32 * 32 * 3)), vggPath: Paths.vgg)
    let initial = model.net.parameters.map(\.array)
    try trainer.step()
    let afterOne = model.net.parameters.map(\.array)
    try trainer.step()
    #expect(afterOne != initial)
    #expect(model.net.parameters.map(\.array) == afterOne)
    // The schedule is stored with the model.
    try model.save(to: dir.file("m.h5"))
    #expect(try StyleModel.load(dir.file("m.h5")).settings == s)
  }

  @Test func modelFilesFromTheFutureOrElsewhereAreRefused() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let model = StyleModel(settings: Self.tinySettings(dataset: "d.h5"))
    try model.save(to: dir.file("m.h5"))
    let back = try StyleModel.load(dir.file("m.h5"))
    for (p, q) in zip(model.net.parameters, back.net.parameters) { #expect(p.array == q.array) }
    #expect(back.checkpoint == nil)

    // Float16 storage: about half the bytes, weights within half-precision rounding.
    try model.save(to: dir.file("half.h5"), float16: true)
    let half = try StyleModel.load(dir.file("half.h5"))
    for (p, q) in zip(model.net.parameters, half.net.parameters) {
      for i in 0..<p.count { #expect(abs(p.data[i] - q.data[i]) <= 1e-3 * max(abs(p.data[i]), 1e-2)) }
    }

    let file = try HDF5File(dir.file("m.h5"), mode: .readWrite)
    try file.setAttribute("format", .numbers([99]))
    file.flush()
    #expect { try StyleModel.load(dir.file("m.h5")) } throws: { "\($0)".contains("newer") }
    try file.setAttribute("format", .numbers([1]))  // before the output scale
    file.flush()
    #expect { try StyleModel.load(dir.file("m.h5")) } throws: { "\($0)".contains("train it again") }
    try file.setAttribute("kind", .string("something else"))
    try file.setAttribute("format", .numbers([Double(StyleModel.formatVersion)]))
    file.flush()
    #expect { try StyleModel.load(dir.file("m.h5")) } throws: { "\($0)".contains("not a picasso style model") }
    // The VGG file is HDF5 without metadata checksums (written by h5py): refused before parsing.
    #expect { try StyleModel.load(Paths.vgg) } throws: { "\($0)".contains("without metadata checksums") }
    #expect { try StyleModel.load(dir.file("none.h5")) } throws: { "\($0)".contains("no such model file") }
  }
}
