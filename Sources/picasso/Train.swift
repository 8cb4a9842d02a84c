import ArgumentParser
import Foundation
import PicassoCore

struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Learn a feed-forward filter for one painting (Johnson et al. 2016).",
    discussion: """
      Trains a transformation network on a dataset from picasso dataset so that its output \
      keeps each photo's content (VGG19 features at --content-layers) and takes the painting's \
      style (Gram matrices at --style-layers). Checkpoints go into the model file itself \
      (weights, Adam state, iteration, random state), written atomically; --resume continues \
      exactly where a run stopped. Ctrl-C writes a checkpoint and stops. A new run starts \
      from Models/base.h5 (a network that already paints another painting over the photos' shapes), \
      stores a running average of the weights it trains (--average-decay), trains against the \
      4-pixel hatching such networks paint (--grid-weight) and splits each batch \
      over the cores. Under mpirun (Open MPI) the ranks split each batch and sum their \
      gradients; rank 0 writes the model.

      Examples, a filter in an hour; the same on two processes:
        picasso train --dataset d.h5 --style starry.jpg --output starry.h5 --time 60m
        mpirun -np 2 picasso train --dataset d.h5 --style starry.jpg --output starry.h5 --batch-size 4
      """)

  @Option(help: ArgumentHelp(
    "The training set (from picasso dataset).",
    discussion: "With --resume or --init-weights, the one the model was trained on unless given."))
  var dataset: String?

  @Option(help: "The painting.")
  var style: String?

  @Option(help: "The model file to write (checkpoints go into it too).")
  var output: String

  @Option(help: "Adam steps in total.")
  var iterations: Int?

  @Option(parsing: .unconditional, help: ArgumentHelp(
    "A wall-clock budget for this run, such as 90s, 60m or 1.5h: training stops in time to write a finished model.",
    discussion: "Beside --iterations: the run ends at whichever comes first.", valueName: "duration"))
  var time: String?

  @Option(help: ArgumentHelp(
    "Threads that each take a share of every batch (default: one per core, at most the batch size).",
    discussion: "1 runs each step as one pass over the batch, with every core in each kernel. A run is repeatable for a given count, and --resume keeps the count the run was started with. Under mpirun: threads per process (default: the cores of a machine shared among its processes)."))
  var threads: Int?

  @Option(help: "Photos per step (default: 2).")
  var batchSize: Int?

  @Option(help: ArgumentHelp(
    "Side of the photos each step trains on, in pixels (default: the dataset's size).",
    discussion: "Below the dataset's size S each photo of a step is a random square window of side between this and S, at a random place, scaled to this size: random-scale crops of photos stored larger than the crop (picasso dataset --size S). Validation scales each whole photo to this size.",
    valueName: "pixels"))
  var imageSize: Int?

  @Option(help: "Adam's learning rate (default: 1e-3; with --init-weights, the model's unless given).")
  var learningRate: Float?

  @Option(help: ArgumentHelp(
    "Multiply the learning rate by --lr-decay-factor after every N iterations (default: never; with --init-weights, the model's unless given).",
    discussion: "Counted in the model's iterations, which --init-weights continues, so a resumed run keeps the schedule."))
  var lrDecayEvery: Int?

  @Option(help: "The learning rate's factor at each --lr-decay-every (default: 0.5).")
  var lrDecayFactor: Float?

  @Option(help: ArgumentHelp(
    "The model is a running average of the trained weights; each step's weight in it decays by this factor a step (default: 0.995, about the last 200 steps; 0: the last step's weights).",
    discussion: "The average scores better than the weights of any one step at a constant learning rate. With --init-weights, the model's unless given.",
    valueName: "factor"))
  var averageDecay: Float?

  @Option(help: "Weight of the content loss (default: 1; with --init-weights, the model's unless given).")
  var contentWeight: Float?

  @Option(help: "Weight of the style loss (default: 5; with --init-weights, the model's unless given).")
  var styleWeight: Float?

  @Option(help: "Weight of the total-variation loss (default: 1; with --init-weights, the model's unless given).")
  var tvWeight: Float?

  @Option(help: ArgumentHelp(
    "Weight of the grid loss, trained against but not judged: the 4-pixel hatching the network's two upsamplings can paint (default: 1e6; 0 turns it off; with --init-weights, the model's unless given).",
    discussion: "The loss is the spread of the output's high-pass over the 16 positions modulo 4 (docs/training.md); texture that does not repeat every 4 pixels costs nothing.",
    valueName: "weight"))
  var gridWeight: Float?

  @Option(help: "Comma-separated VGG layers for the content loss.")
  var contentLayers: String = "relu2_2"

  @Option(help: "Comma-separated VGG layers for the style loss.")
  var styleLayers: String = "relu1_2,relu2_2,relu3_3,relu4_3"

  @Option(help: "Long side of the painting as the loss network sees it, in pixels (default: 512, as picasso optimize sees it, or the painting's own size if smaller; the network learns strokes of that scale).")
  var styleSize: Int?

  @Option(help: "Width of the first layer; the next two are 2× and 4× (default 32: 32-64-128).")
  var width: Int?

  @Option(help: "Residual blocks (default 5).")
  var blocks: Int?

  @Option(help: ArgumentHelp(
    "The network in fast-neural-style's notation, instead of --width/--blocks.",
    discussion: "The default is \(TransformerNet.Architecture().string).", valueName: "layers"))
  var arch: String?

  @Option(help: "Write a checkpoint every N iterations.")
  var checkpointEvery: Int = 500

  @Option(help: "Compute the validation loss every N iterations.")
  var validateEvery: Int = 500

  @Flag(help: "Continue the run stored in --output.")
  var resume = false

  @Option(help: ArgumentHelp(
    "Start from the weights of this model (its network, painting and settings) with a fresh Adam state, continuing its iteration count and loss histories.",
    discussion: "For a model saved without a checkpoint (--float16): unlike --resume, the result is not bit-identical to an uninterrupted run.",
    valueName: "model"))
  var initWeights: String?

  @Option(help: ArgumentHelp(
    "Start a new run from this model's network weights (default: Models/base.h5 where it exists and has the same network; 'none' for random weights).",
    discussion: "The bundled base (Scripts/make-base.sh) keeps the photos' shapes under the strokes of van Gogh's Church at Auvers, a painting no bundled model is judged on: a run starting from it keeps the shapes from its first step and has only to change the strokes.",
    valueName: "model"))
  var base: String?

  @Flag(help: "When training ends, store the weights in float16 (half the size; the checkpoint is dropped).")
  var float16 = false

  @Option(help: "Random seed (initial weights, batches, flips).")
  var seed: UInt64 = 0

  @Option(help: "The VGG19 weights (default: Models/vgg19.h5).")
  var vgg: String?

  @OptionGroup var imageLimit: ImageLimit

  func validate() throws {
    if let time, Self.seconds(time) == nil {
      throw usageError("--time takes a positive duration with a unit, such as 90s, 60m or 1.5h; not '\(time)'")
    }
    if let threads, !(1...64).contains(threads) { throw usageError("--threads must be between 1 and 64, not \(threads)") }
    if let iterations { guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1.") } }
    if let learningRate { guard learningRate.isFinite && learningRate > 0 else { throw ValidationError("--learning-rate must be a positive number.") } }
    if let lrDecayEvery { guard lrDecayEvery >= 1 else { throw ValidationError("--lr-decay-every must be at least 1.") } }
    if let averageDecay, !(averageDecay >= 0 && averageDecay < 1) {
      throw usageError("--average-decay must be at least 0 and below 1, not \(averageDecay)")
    }
    if let lrDecayFactor { guard lrDecayFactor > 0 && lrDecayFactor <= 1 else { throw ValidationError("--lr-decay-factor must be in (0, 1].") } }
    for (name, weight) in [("content", contentWeight), ("style", styleWeight), ("tv", tvWeight), ("grid", gridWeight)] {
      if let weight { guard weight.isFinite && weight >= 0 else { throw ValidationError("--\(name)-weight must be a number of at least 0.") } }
    }
    if let imageSize, !(16...2048).contains(imageSize) { throw usageError("--image-size must be between 16 and 2048 pixels, not \(imageSize)") }
    guard imageSize == nil || (!resume && initWeights == nil) else {
      throw usageError("--image-size starts a new run; --resume and --init-weights keep the model's (\"picasso models\" shows it)")
    }
    guard (1...256).contains(batchSize ?? 2) else { throw ValidationError("--batch-size must be between 1 and 256.") }
    guard (1...1024).contains(width ?? 32), (0...64).contains(blocks ?? 5) else { throw ValidationError("--width must be 1…1024 and --blocks 0…64.") }
    guard arch == nil || (width == nil && blocks == nil) else { throw ValidationError("Give either --arch or --width/--blocks, not both.") }
    guard checkpointEvery >= 1, validateEvery >= 1 else { throw ValidationError("--checkpoint-every and --validate-every must be at least 1.") }
    guard resume || initWeights != nil || style != nil else { throw ValidationError("Give the painting with --style (or --resume a run).") }
    guard resume || initWeights != nil || dataset != nil else { throw ValidationError("Give the training set with --dataset (or --resume a run).") }
    guard !(resume && initWeights != nil) else { throw ValidationError("Give either --resume or --init-weights, not both.") }
    guard !resume || (learningRate == nil && lrDecayEvery == nil && lrDecayFactor == nil && contentWeight == nil && styleWeight == nil
                      && tvWeight == nil && averageDecay == nil && gridWeight == nil) else {
      throw ValidationError("--resume continues a run exactly; to change the learning rate, the loss weights or the averaging, start from its weights with --init-weights.")
    }
    guard base == nil || (!resume && initWeights == nil) else { throw usageError("--base starts a new run; leave it out with --resume or --init-weights") }
    guard initWeights == nil || (arch == nil && width == nil && blocks == nil) else {
      throw ValidationError("--init-weights takes the network from the model; leave out --arch, --width and --blocks.")
    }
  }

  func run() throws {
    imageLimit.apply()
    guard MPIJob.launched() != nil else { return try reportingErrors { try train(nil) } }
    guard let job = MPIJob.world else { throw fail(PicassoError.badInput("mpirun started picasso, but MPI did not start")) }
    var code = ExitCode.success
    do {
      try reportingErrors { try train(job) }
    } catch let exit as ExitCode {
      code = exit
    }
    if code != .success && !Train.endedTogether {
      // This rank alone failed; the others would wait for it in the next sum.
      printErr("train: rank \(job.rank) of \(job.size) failed; ending every rank")
      job.abort(code.rawValue)
    }
    job.finish()
    if code != .success { throw code }
  }

  /// Set before an exit that every rank of an MPI job reaches at the same step (an
  /// interrupt, the budget, a check), which ends MPI normally rather than aborting the job.
  nonisolated(unsafe) static var endedTogether = false

  /// Seconds in a duration such as "90s", "60m", "1.5h" (positive, finite, with a unit).
  static func seconds(_ text: String) -> Double? {
    let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
    guard let unit = text.last.flatMap({ units[$0] }), let value = Double(text.dropLast()),
          value.isFinite, value > 0, !text.dropLast().contains(where: { $0.isLetter }) else { return nil }
    return value * unit
  }

  /// The dataset a resumed or fine-tuned model was trained on, where it is still there.
  static func storedDataset(of model: StyleModel?) throws -> String {
    guard let path = model?.settings.dataset, !path.isEmpty else {
      throw usageError("the model does not name its training set; give it with --dataset")
    }
    guard FileManager.default.fileExists(atPath: path) else {
      throw usageError("the model was trained on \(path), which is not there; give the training set with --dataset")
    }
    return path
  }

  private func train(_ group: MPIJob?) throws {
    var baseNote = ""
    let started = Date()  // --time counts from here: loading the networks and data is part of the run
    // --resume and --init-weights read the model first: the dataset it was trained on is the default.
    var loaded: StyleModel?
    if resume {
      guard FileManager.default.fileExists(atPath: output) else {
        throw PicassoError.file(output, "nothing to resume: no such model file")
      }
      loaded = try StyleModel.load(output)
      guard loaded?.checkpoint != nil else { throw PicassoError.file(output, "nothing to resume: the file has no checkpoint") }
    } else if let initWeights {
      loaded = try StyleModel.load(initWeights)
    }
    let dataset = try dataset ?? Train.storedDataset(of: loaded)
    let data = try DatasetReader(dataset)
    let vggPath = try locateVGG(vgg)
    let model: StyleModel
    let painting: RGBImage
    if resume, let loaded {
      model = loaded
      guard model.settings.imageSize <= data.size else {
        throw PicassoError.file(dataset, "has \(data.size) px images; the run was trained on \(model.settings.imageSize) px")
      }
      // Photos stored at another size would change the run's crops (random-scale crops, or none).
      let stored = model.settings.datasetSize
      guard stored == 0 || stored == data.size else {
        throw PicassoError.file(dataset, "has \(data.size) px images; the run read a dataset of \(stored) px (\(model.settings.dataset)): give that one to continue it exactly, or start from its weights with --init-weights")
      }
      let stylePath = style ?? model.settings.styleName
      painting = try RGBImage.read(stylePath).resized(width: model.settings.styleSize[0], height: model.settings.styleSize[1])
    } else if let initWeights, let loaded {
      model = loaded
      guard model.settings.imageSize <= data.size else {
        throw PicassoError.file(dataset, "has \(data.size) px images; \(initWeights) was trained on \(model.settings.imageSize) px")
      }
      let stylePath = style ?? model.settings.styleName
      painting = try RGBImage.read(stylePath).resized(width: model.settings.styleSize[0], height: model.settings.styleSize[1])
      model.readsDataset(dataset, size: data.size)
      let last = model.trainHistory.last?.iteration ?? 0
      var rng = SplitMix64(seed: seed ^ 0x5DEECE66D)
      _ = rng.next()
      model.checkpoint = StyleModel.Checkpoint(iteration: last, rngState: rng.state, adamT: 0, adamM: [], adamV: [])
      // Fine-tuning: a learning rate or loss weights given here replace the model's.
      let w = model.settings.weights
      model.retune(learningRate: learningRate ?? model.settings.learningRate,
                   decayEvery: lrDecayEvery ?? model.settings.learningRateDecayEvery,
                   decayFactor: lrDecayFactor ?? model.settings.learningRateDecayFactor,
                   weights: LossWeights(content: contentWeight ?? w.content, style: styleWeight ?? w.style, tv: tvWeight ?? w.tv),
                   averageDecay: averageDecay ?? model.settings.averageDecay, gridWeight: gridWeight)
    } else {
      let paintingFull = try RGBImage.read(style!)
      painting = paintingFull.resized(longSide: styleSize ?? min(512, max(paintingFull.width, paintingFull.height)))
      var s = StyleModel.Settings()
      if let arch {
        s.architecture = try .init(string: arch)
      } else {
        let w = width ?? 32
        s.architecture = .init(widths: [w, 2 * w, 4 * w], blocks: blocks ?? 5)
      }
      s.styleName = style!
      s.styleSize = [painting.width, painting.height]
      s.contentLayers = commaList(contentLayers)
      s.styleLayers = commaList(styleLayers)
      // Options not given keep the defaults of StyleModel.Settings (one place for them).
      s.weights = LossWeights(content: contentWeight ?? s.weights.content, style: styleWeight ?? s.weights.style,
                              tv: tvWeight ?? s.weights.tv)
      s.imageSize = imageSize ?? data.size
      guard s.imageSize <= data.size else {
        throw usageError("--image-size \(s.imageSize) is larger than the dataset's \(data.size) px photos; make the dataset with picasso dataset --size \(s.imageSize) or more")
      }
      s.batchSize = batchSize ?? s.batchSize
      s.learningRate = learningRate ?? s.learningRate
      s.learningRateDecayEvery = lrDecayEvery ?? s.learningRateDecayEvery
      s.learningRateDecayFactor = lrDecayFactor ?? s.learningRateDecayFactor
      s.averageDecay = averageDecay ?? s.averageDecay
      s.gridWeight = gridWeight ?? s.gridWeight
      s.iterations = iterations ?? s.iterations
      s.seed = seed
      s.dataset = dataset
      s.datasetSize = data.size
      model = StyleModel(settings: s)
      if let (path, start) = try baseNetwork(for: s.architecture) {
        for (p, q) in zip(model.net.parameters, start.net.parameters) { p.copy(from: q) }
        model.checkpoint = StyleModel.Checkpoint(iteration: 0, rngState: SplitMix64(seed: seed).state)
        baseNote = ", from \(path)"
      }
    }
    let lead = (group?.rank ?? 0) == 0
    if let group, group.size > model.settings.batchSize {
      // Every rank reaches this check; rank 0 alone says it.
      Train.endedTogether = true
      if !lead { throw ExitCode(2) }
      throw usageError("mpirun started \(group.size) processes, more than the \(model.settings.batchSize) photos of a batch; start at most \(model.settings.batchSize), or give --batch-size \(group.size) or more")
    }
    if lead { try checkWritableFile(output) }
    // A resumed run keeps the thread count it was started with: a run is repeatable for a
    // given count, so --resume continues it exactly unless --threads says otherwise.
    let stored = resume && group == nil ? model.checkpoint.map(\.threads).flatMap { $0 > 0 ? $0 : nil } : nil
    let workers = threads ?? stored ?? MPIJob.coresPerRank(group)
    if group != nil && workers == 1 { useOneCore() }
    let trainer = try Trainer(model: model, dataset: data, style: painting, vggPath: vggPath, workers: workers, group: group)
    let total = resume || initWeights != nil ? (iterations ?? model.settings.iterations) : model.settings.iterations
    guard trainer.iteration < total || float16 else {
      throw ValidationError(
        "Nothing to do: the model is already at iteration \(trainer.iteration); give --iterations above that to go on (or --float16 to store it finished).")
    }
    // Under mpirun, rank 0 writes the last finished step the moment a signal comes (the
    // launcher's SIGKILL follows its SIGTERM within a second, before a step can end).
    let keeper = group != nil && lead ? CheckpointKeeper(model, output: output) : nil
    Interrupt.install(wake: keeper != nil)
    keeper?.watch()
    let budget = time.flatMap(Self.seconds)
    let budgetNote = budget.map { ", at most \(ProgressBar.clock($0))" } ?? ""
    let threadNote = (trainer.workers > 1 ? ", \(trainer.workers) threads" : stored != nil ? ", 1 thread" : "")
      + (threads == nil && stored != nil ? " (as the run was started; --threads to change)" : "")
    let groupNote = group.map { ", \($0.size) processes (mpirun)" } ?? ""
    let averageNote = (model.settings.averageDecay > 0 ? ", weights averaged (decay \(model.settings.averageDecay))" : "")
      + (model.settings.gridWeight > 0 ? ", grid loss weight \(fmt(Double(model.settings.gridWeight)))" : "")
    if lead {
      printErr("train: \(model.net.parameterCount) parameters, \(data.counts[.train]!) photos of \(data.size) px\(model.settings.imageSize < data.size ? " (random-scale crops of \(model.settings.imageSize) px)" : ""), batch \(model.settings.batchSize)\(groupNote)\(threadNote)\(threadNote.isEmpty || group == nil ? "" : " each"), iterations \(trainer.iteration + 1)…\(total)\(budgetNote)\(baseNote)\(averageNote)")
    }

    let secondsBefore = model.trainingSeconds
    let bar = ProgressBar(total: total - trainer.iteration, unit: "it")
    bar.silent = !lead
    let setupSeconds = Date().timeIntervalSince(started)
    bar.budget = budget.map { $0 - setupSeconds }
    // The budget's stopping rule: no step starts unless it and the finishing writes (timed
    // as they happen) are expected to end within the budget. Under mpirun rank 0's clock
    // decides, and every rank learns each step's decisions together.
    var stepSeconds = 0.0, validateSeconds = 0.0, checkpointSeconds = 0.0
    var timeUp = false, interrupted = false
    var trainingStepSeconds = 0.0  // the steps alone, for the photos per second
    func checkpoint() throws {
      guard lead else { return }
      model.trainingSeconds = secondsBefore + bar.elapsed
      trainer.recordCheckpoint()
      if let keeper { try keeper.lock.withLock { try model.save(to: output) } } else { try model.save(to: output) }
      try writeFigures(model, data)
    }
    let first = trainer.iteration
    while trainer.iteration < total {
      if interrupted || (group == nil && Interrupt.requested) {
        if keeper?.written != true { try checkpoint() }
        bar.finish()
        if lead && keeper?.written != true {
          printErr("train: interrupted; checkpoint at iteration \(trainer.iteration) in \(output) (continue with --resume)")
        }
        Train.endedTogether = true
        throw ExitCode(130)
      }
      let r: LossReport
      let stepStart = bar.elapsed
      do {
        r = try trainer.step()
      } catch let failure as Trainer.Failure {
        bar.finish()
        Train.endedTogether = true  // the summed loss is the same on every rank
        if !lead { throw ExitCode.failure }
        throw PicassoError.badInput("\(failure); the last good checkpoint stays in \(output)")
      }
      let it = trainer.iteration
      let took = bar.elapsed - stepStart
      trainingStepSeconds += took
      stepSeconds = it == first + 1 ? took : 0.8 * stepSeconds + 0.2 * took
      var tooShort = false
      if let budget, it == first + 1, setupSeconds + bar.elapsed > budget { tooShort = true }
      if let budget { timeUp = setupSeconds + bar.elapsed + stepSeconds + validateSeconds + checkpointSeconds > budget }
      if let group {
        // One small sum a step: any rank's signal, and rank 0's reading of the clock.
        var votes = [Interrupt.requested ? 1.0 : 0, lead && tooShort ? 1 : 0, lead && timeUp ? 1 : 0]
        group.sum(&votes)
        (interrupted, tooShort, timeUp) = (votes[0] > 0, votes[1] > 0, votes[2] > 0)
      }
      if tooShort {
        bar.finish()
        Train.endedTogether = true
        if lead { printErr(String(format: "train: --time %@ is too short for one step (the first took %.1f s); no model written", time!, took)) }
        throw ExitCode.failure
      }
      model.trainHistory.append(.init(iteration: it, losses: r))
      keeper?.capture(trainer, seconds: secondsBefore + bar.elapsed)
      let rate = model.settings.learningRateDecayEvery > 0 ? "  lr \(fmt(Double(model.settings.learningRate(after: it - 1))))" : ""
      let grid = model.settings.gridWeight > 0 ? " grid \(fmt(trainer.grid))" : ""
      bar.update(it - first, status: "iter \(it)\(rate)  loss \(fmt(r.total)) (content \(fmt(r.content)) style \(fmt(r.style)) tv \(fmt(r.tv))\(grid))")
      if lead && (it % validateEvery == 0 || it == total || timeUp) {
        let start = bar.elapsed
        model.valHistory.append(.init(iteration: it, losses: try trainer.validate()))
        validateSeconds = bar.elapsed - start
      }
      if it % checkpointEvery == 0 || it == total || timeUp {
        let start = bar.elapsed
        try checkpoint()
        checkpointSeconds = bar.elapsed - start
      }
      if timeUp { break }
    }
    bar.finish()
    guard lead else { return }
    if timeUp, let time {
      printErr("train: --time \(time) reached; stopped at iteration \(trainer.iteration) of \(total)")
    }
    if float16 {
      model.trainingSeconds = secondsBefore + bar.elapsed
      try model.save(to: output, float16: true)
    }
    let last = model.trainHistory.last?.losses.total ?? .nan
    let photosPerSecond = Double((trainer.iteration - first) * model.settings.batchSize) / trainingStepSeconds
    let steps = trainer.iteration - first
    let sumNote = group.map { _ in
      String(format: ", summing %.1f MB over the ranks in %.1f ms a step", Double(model.net.parameterCount * 4) / 1e6, 1000 * trainer.sumSeconds / Double(max(steps, 1)))
    } ?? ""
    let rateNote = steps > 0 ? String(format: " (%.2f photos/s%@)", photosPerSecond, sumNote) : ""
    printErr(String(format: "train: done, %d iterations in %.0f s%@; final loss %@; wrote %@",
                     steps, bar.elapsed, rateNote, fmt(last), output))
  }
}

extension Train {
  /// The base network a new run starts from: --base (an error if it does not fit), else
  /// Models/base.h5 beside the VGG weights when its network is the same; nil for random weights.
  func baseNetwork(for architecture: TransformerNet.Architecture) throws -> (String, StyleModel)? {
    if base == "none" { return nil }
    let path: String
    if let base {
      path = base
    } else {
      let candidate = ((try? locateVGG(vgg)).map { ($0 as NSString).deletingLastPathComponent } ?? "Models") + "/base.h5"
      guard FileManager.default.fileExists(atPath: candidate) else { return nil }
      path = candidate
    }
    let model = try StyleModel.load(path)
    guard model.settings.architecture == architecture else {
      if base == nil { return nil }  // the default base is for the default network
      throw PicassoError.badInput("\(path) has the network \(model.settings.architecture.string), not \(architecture.string)")
    }
    return (path, model)
  }

  /// Beside the model: `NAME-loss.png` (train loss, averaged over windows, and validation
  /// loss, log scale) and `NAME-preview.png` (validation photos above, stylised below by the
  /// model's weights, the running average where there is one).
  func writeFigures(_ model: StyleModel, _ data: DatasetReader) throws {
    let base = (output as NSString).deletingPathExtension
    let train = model.trainHistory
    let window = max(1, train.count / 200)
    let smoothed = stride(from: 0, to: train.count, by: window).map { start -> (x: Double, y: Double) in
      let slice = train[start..<min(start + window, train.count)]
      return (Double(slice.last!.iteration), slice.reduce(0) { $0 + $1.losses.total } / Double(slice.count))
    }
    let val = model.valHistory.map { (x: Double($0.iteration), y: $0.losses.total) }
    let name = ((model.settings.styleName as NSString).lastPathComponent as NSString).deletingPathExtension
    let plot = LinePlot(title: "TOTAL LOSS, \(name)", xLabel: "ITERATION", series: [
      .init(name: "TRAIN", color: LinePlot.palette[0], points: smoothed),
      .init(name: "VALIDATION", color: LinePlot.palette[1], points: val),
    ])
    try plot.render().write(to: base + "-loss.png")

    let count = min(4, data.counts[.val]!)
    let photos = Tensor(shape: [count, 3, data.size, data.size])
    try data.read(.val, indices: Array(0..<count), into: photos)
    // Rendered as picasso stylize renders (the mirrored margin included), by a copy: the
    // stylizer switches its network to rendering (folded upsampling has no backward pass), and
    // without an average the model's network is the one that trains.
    let stylizer = Stylizer(net: model.net.copy())
    let originals = (0..<count).map { RGBImage(tensor: photos, index: $0) }
    let rows = [originals, originals.map { stylizer.render($0) }]
    try contactSheet(rows, cell: data.size).write(to: base + "-preview.png")
  }
}

/// Rank 0's copy of the last finished step of an MPI run, written to the model file the
/// moment SIGINT or SIGTERM arrives: mpirun answers Ctrl-C by sending the ranks SIGTERM and,
/// a second later, SIGKILL, too soon for a step (seconds) to end. Taking the copy costs a
/// copy of the weights and Adam's moments per step (about 20 MB, milliseconds).
final class CheckpointKeeper: @unchecked Sendable {
  let lock = NSLock()
  private let model: StyleModel
  private let copy: StyleModel
  private let output: String
  private var captured = false
  /// Set once the copy has been written after a signal.
  private(set) var written: Bool {
    get { lock.withLock { _written } }
    set { lock.withLock { _written = newValue } }
  }
  private var _written = false

  init(_ model: StyleModel, output: String) {
    (self.model, self.output) = (model, output)
    copy = StyleModel(settings: model.settings, net: TransformerNet(model.settings.architecture))
  }

  /// Takes the copy after a step (main thread).
  func capture(_ trainer: Trainer, seconds: Double) {
    trainer.recordCheckpoint()
    lock.withLock {
      for (p, q) in zip(copy.net.parameters, model.net.parameters) { p.copy(from: q) }
      copy.trainHistory = model.trainHistory
      copy.valHistory = model.valHistory
      copy.checkpoint = model.checkpoint
      copy.trainingSeconds = seconds
      captured = true
    }
  }

  /// Starts the thread that waits for the signal handler's byte and writes the copy.
  func watch() {
    let fd = Interrupt.wakeReadFD
    guard fd >= 0 else { return }
    Thread.detachNewThread { [self] in
      var byte: UInt8 = 0
      while read(fd, &byte, 1) < 0 && errno == EINTR {}
      lock.lock()
      defer { lock.unlock() }
      guard captured, let iteration = copy.checkpoint?.iteration else {
        printErr("\ntrain: interrupted before the first step ended; nothing written")
        return
      }
      do {
        try copy.save(to: output)
        _written = true
        printErr("\ntrain: interrupted; checkpoint at iteration \(iteration) in \(output) (continue with --resume)")
      } catch {
        printErr("\ntrain: interrupted, and the checkpoint could not be written: \(error)")
      }
    }
  }
}
