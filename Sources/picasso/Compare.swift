import ArgumentParser
import Foundation
import PicassoCore

struct Compare: ParsableCommand {
  /// Warm passes of the model per photo; the fastest is reported.
  static let fastPasses = 3

  static let configuration = CommandConfiguration(
    abstract: "Fast against slow: a trained model's output beside the Gatys optimiser's, with times and losses.",
    discussion: """
      For each photo, renders the model's output and runs L-BFGS (picasso optimize's \
      defaults: from the photo, or from noise with --init random; step 1, history 100) \
      under the objective stored in the model: its loss layers and weights, the same VGG \
      weights, the painting at the size the model was trained with (or at \
      --style-size; 512 px for a model from picasso import, whose objective is not known: \
      it is judged under picasso train's defaults). Reports wall time (the model's as the fastest of three warm passes, \
      as when it filters a folder), content, style (total and per layer), TV and total loss for every \
      output; the "equivalent iterations" (the \
      first L-BFGS iteration whose total loss is below the model's, from the loss recorded \
      at every iteration); SSIM of the luminance against the photo; and the Hellinger \
      distance of the colour histograms against the painting. Writes a sheet PNG, a \
      loss-against-iterations plot PNG, and optionally a Markdown report and JSON.

      Examples:
        picasso compare --model Models/starry_night.h5 --style starry_night.jpg --iterations 50,100 photo.png
        picasso compare --model run/final.h5 --snapshot run/at10m.h5 --style starry.jpg --init random photo.png
        picasso compare --model run/final.h5 --snapshot run/at10m.h5 --style starry.jpg --curves noise.json
      """)

  @Option(help: "The trained model.")
  var model: String

  @Option(help: "The painting the model was trained on.")
  var style: String

  @Option(help: ArgumentHelp(
    "Also judge this model against the same optimiser runs (repeatable): a snapshot of the same training run, or another model trained under the same objective.",
    discussion: "Writes NAME-curve.png beside the sheet: equivalent iterations (the mean over the photos) against training minutes, one line per folder of models (a run's snapshots).",
    valueName: "model"))
  var snapshot: [String] = []

  @Argument(help: "Content photos (with --curves, by default the photos of that run).")
  var contents: [String] = []

  @Option(help: "Comma-separated L-BFGS iteration counts to show.")
  var iterations = "50,100,300"

  @Option(help: "Long side of the photos, in pixels, for every method.")
  var size = 512

  @Option(help: ArgumentHelp(
    "Long side of the painting for the style targets, in pixels (default: the size the model was trained with).",
    discussion: """
      A feed-forward network paints strokes of a fixed size in pixels, whatever the photo's \
      size, so by default both methods are judged with the painting at the size the model \
      learned it from (picasso train --style-size; 512 px by default, as picasso optimize \
      sees it). --style-size L judges both at another scale.
      """))
  var styleSize: Int?

  @Option(name: .customLong("init"), help: ArgumentHelp(
    "The optimiser's starting image: content (the photo; the default) or random (grey noise from --seed).",
    discussion: "Unlike picasso optimize --init, it takes no image path."))
  var initialization: String?

  @Option(help: ArgumentHelp(
    "Judge against the optimiser runs recorded by an earlier picasso compare --json, without running L-BFGS again.",
    discussion: """
      The file's loss at every L-BFGS iteration stands in for a new run: the model and every \
      --snapshot are judged in seconds rather than a quarter of an hour a photo at 512 px. \
      The file must come from the same painting, --size, --style-size, objective (loss \
      layers and weights) and --init; the photos default to its photos. The sheet shows \
      the photos and the models' outputs only.
      """,
    valueName: "json"))
  var curves: String?

  @Option(help: ArgumentHelp(
    "Draw the curves that another picasso compare --json recorded (its model and snapshots) beside this run's (repeatable).",
    discussion: """
      Another recipe, judged under its own objective: losses of two objectives do not \
      compare, their equivalent iterations do. The file must come from the same --size, \
      --init and photos (by file name); its model file gives its last point's minutes.
      """,
    valueName: "json"))
  var beside: [String] = []

  @Option(help: "Random seed of --init random (default: 0).")
  var seed: UInt64?

  @Option(help: "The sheet PNG to write (the plot goes beside it, as NAME-loss.png).")
  var output = "compare.png"

  @Option(help: "Also write a Markdown report with the table.")
  var report: String?

  @Flag(help: "Print the numbers as JSON on stdout.")
  var json = false

  @Option(help: "The VGG19 weights (default: Models/vgg19.h5).")
  var vgg: String?

  @OptionGroup var imageLimit: ImageLimit

  func validate() throws {
    guard (16...4096).contains(size) else { throw ValidationError("--size must be between 16 and 4096 pixels.") }
    if let styleSize, !(16...4096).contains(styleSize) { throw ValidationError("--style-size must be between 16 and 4096 pixels.") }
    if let initialization, !["content", "random"].contains(initialization) { throw ValidationError("--init must be content or random.") }
    guard seed == nil || initialization == "random" else { throw ValidationError("--seed applies only to --init random.") }
    guard !contents.isEmpty || curves != nil else { throw ValidationError("Give at least one content photo.") }
  }

  func run() throws {
    imageLimit.apply()
    try reportingErrors(compare)
  }

  struct Output: Codable {
    var method: String
    var iterations: Int?
    var seconds: Double
    var content: Double, style: Double, styleByLayer: [String: Double], tv: Double, total: Double
    var ssim: Double
    var histogramDistance: Double
  }

  struct PhotoResult: Codable {
    var photo: String
    var width: Int, height: Int
    var fast: Output
    var slow: [Output]
    /// The optimiser's total loss after each iteration, 1…max.
    var slowTotals: [Double]
    var equivalentIterations: Int?
    /// Seconds of the optimiser to reach `equivalentIterations`, over the model's seconds.
    var speedRatio: Double?
  }

  /// Another model judged against the same optimiser runs (--snapshot).
  struct SnapshotResult: Codable {
    var model: String
    var trainingMinutes: Double
    var iterations: Int
    /// Per photo, in the order of `photos`: the model's total loss and equivalent iterations.
    var totals: [Double]
    var equivalentIterations: [Int?]
  }

  struct Result: Codable {
    var model: String, painting: String, size: Int, styleSize: Int
    var contentLayers: [String], styleLayers: [String]
    var contentWeight: Float, styleWeight: Float, tvWeight: Float
    var iterations: [Int]
    /// The optimiser's starting image ("content" or "random") and the seed of "random".
    var initialization: String, seed: UInt64
    var photos: [PhotoResult]
    var snapshots: [SnapshotResult]
    /// The lines of NAME-curve.png: mean equivalent iterations against training minutes.
    var curves: [Curve]
  }

  /// One line of the curve plot: a folder of models (a run's snapshots), from this run or --beside.
  struct Curve: Codable {
    var name: String
    var minutes: [Double]
    var meanEquivalentIterations: [Double]
  }

  /// What --beside reads of another run's JSON: each model's equivalent iterations, and the
  /// optimiser's last iteration that stands for "more than".
  struct Beside: Decodable {
    struct Photo: Decodable { var photo: String; var slowTotals: [Double]; var equivalentIterations: Int? }
    struct Snapshot: Decodable { var model: String; var trainingMinutes: Double; var equivalentIterations: [Int?] }
    var model: String, size: Int, initialization: String
    var photos: [Photo]
    var snapshots: [Snapshot]

    /// (model, minutes, equivalent iterations per photo in `names`' order), or a refusal
    /// when the run was judged at another size, from another start or on other photos.
    func judged(_ path: String, size: Int, initialization: String, names: [String]) throws -> [(String, Double, [Int?], [Int])] {
      func refuse(_ what: String) -> PicassoError { .badInput("--beside \(path) was judged \(what)") }
      let file = { (p: String) in (p as NSString).lastPathComponent }
      guard self.size == size else { throw refuse("at --size \(self.size), this run at \(size)") }
      guard self.initialization == initialization else { throw refuse("from --init \(self.initialization), this run from \(initialization)") }
      guard photos.map({ file($0.photo) }).sorted() == names.sorted() else {
        throw refuse("on \(photos.map { file($0.photo) }.joined(separator: ", ")), this run on \(names.joined(separator: ", "))")
      }
      guard snapshots.allSatisfy({ $0.equivalentIterations.count == photos.count }) else {
        throw PicassoError.badInput("--beside \(path) is not the JSON of picasso compare --json (a snapshot judged on another number of photos)")
      }
      let order = names.map { n in photos.firstIndex { file($0.photo) == n }! }
      let caps = order.map { photos[$0].slowTotals.count }
      let minutes: Double
      do { minutes = try StyleModel.load(model).trainingSeconds / 60 } catch {
        throw PicassoError.badInput("--beside \(path): its model \(model) cannot be read for its training minutes (\(error))")
      }
      return snapshots.map { snap in (snap.model, snap.trainingMinutes, order.map { snap.equivalentIterations[$0] }, caps) }
        + [(model, minutes, order.map { photos[$0].equivalentIterations }, caps)]
    }
  }

  /// What --curves reads of an earlier run's JSON: the optimiser's settings and losses.
  struct Recorded: Decodable {
    struct Photo: Decodable {
      var photo: String
      var width: Int, height: Int
      var slow: [Timing]
      var slowTotals: [Double]
    }
    struct Timing: Decodable { var seconds: Double }
    var painting: String, size: Int, styleSize: Int
    var contentLayers: [String], styleLayers: [String]
    var contentWeight: Float, styleWeight: Float, tvWeight: Float
    var initialization: String, seed: UInt64
    var photos: [Photo]

    static func load(_ path: String) throws -> Recorded { try decodeJSON(path, flag: "--curves") }

    /// Refuses a run that judged under other settings than these.
    func check(_ path: String, painting: String, size: Int, styleSize: Int, settings s: StyleModel.Settings,
               initialization: String?, seed: UInt64?) throws {
      func refuse(_ what: String) -> PicassoError { .badInput("--curves \(path) was recorded with \(what); judge with the same settings or run the optimiser again") }
      let name = { (p: String) in (p as NSString).lastPathComponent }
      guard name(self.painting) == name(painting) else { throw refuse("the painting \(name(self.painting))") }
      guard self.size == size else { throw refuse("--size \(self.size)") }
      guard self.styleSize == styleSize else { throw refuse("the painting at \(self.styleSize) px (--style-size)") }
      guard contentLayers == s.contentLayers, styleLayers == s.styleLayers, contentWeight == s.weights.content,
            styleWeight == s.weights.style, tvWeight == s.weights.tv else {
        throw refuse("another objective (content \(contentLayers.joined(separator: ",")) weight \(contentWeight), style \(styleLayers.joined(separator: ",")) weight \(styleWeight), TV \(tvWeight))")
      }
      guard initialization == nil || initialization == self.initialization else { throw refuse("--init \(self.initialization)") }
      guard seed == nil || seed == self.seed else { throw refuse("--seed \(self.seed)") }
    }

    /// The recorded run of a photo: the same path, else the same file name.
    func run(of path: String) -> Photo? {
      photos.first { $0.photo == path } ?? photos.first { ($0.photo as NSString).lastPathComponent == (path as NSString).lastPathComponent }
    }
  }

  /// An earlier picasso compare --json, as `flag` reads it.
  static func decodeJSON<T: Decodable>(_ path: String, flag: String) throws -> T {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw PicassoError.file(path, "cannot read: \(error.localizedDescription)") }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    do { return try decoder.decode(T.self, from: data) } catch {
      throw PicassoError.badInput("\(flag) \(path) is not the JSON of picasso compare --json (\(error))")
    }
  }

  /// The iteration counts, sorted, each at least 1.
  func iterationList() throws -> [Int] {
    let parts = commaList(iterations)
    let counts = parts.compactMap(Int.init)
    guard !parts.isEmpty else { throw PicassoError.badInput("--iterations lists no iteration counts (give e.g. 50,100,300)") }
    guard counts.count == parts.count, counts.allSatisfy({ $0 >= 1 }) else {
      throw PicassoError.badInput("--iterations must list positive whole numbers, not '\(iterations)'")
    }
    return Array(Set(counts)).sorted()
  }

  private func compare() throws {
    let counts = try iterationList()
    try checkWritableImagePath(output)
    if let report { try checkWritableFile(report) }
    let styleModel = try StyleModel.load(model)
    let s = styleModel.settings
    let paintingFull = try RGBImage.read(style)
    // By default the painting at the size the model learned it from: the network's strokes
    // have that scale in pixels at any photo size.
    // An imported model does not know its painting's size: 512 px, as picasso optimize sees it.
    let learned = s.styleSize.max() ?? 0
    let styleSide = styleSize ?? (learned > 0 ? max(16, learned) : 512)
    let painting = paintingFull.resized(longSide: styleSide)
    let vggPath = try locateVGG(vgg)
    let net: VGG
    do {
      net = try VGG(weightsFile: vggPath, taps: s.contentLayers + s.styleLayers)
    } catch {
      throw PicassoError.badInput("\(model) was trained with layers \((s.contentLayers + s.styleLayers).joined(separator: ",")) that \(vggPath) cannot give: \(error)")
    }
    let recorded = try curves.map(Recorded.load)
    try recorded?.check(curves!, painting: style, size: size, styleSize: styleSide, settings: s, initialization: initialization, seed: seed)
    let startingImage = recorded?.initialization ?? initialization ?? "content"
    let startingSeed = recorded?.seed ?? seed ?? 0
    let photos = contents.isEmpty ? recorded?.photos.map(\.photo) ?? [] : contents
    let besideRuns = try beside.map { path in
      try (Self.decodeJSON(path, flag: "--beside") as Beside)
        .judged(path, size: size, initialization: startingImage, names: photos.map { ($0 as NSString).lastPathComponent })
    }
    let objective = StyleObjective(vgg: net, styles: [(painting.tensor(), 1)], contentLayers: s.contentLayers,
                                   styleLayers: s.styleLayers, weights: s.weights)
    let stylizer = Stylizer(net: styleModel.net)
    var snapshots: [(path: String, model: StyleModel, stylizer: Stylizer, totals: [Double])] = []
    for path in snapshot {
      let other = try StyleModel.load(path)
      let o = other.settings
      guard o.contentLayers == s.contentLayers, o.styleLayers == s.styleLayers, o.weights == s.weights,
            styleSize != nil || o.styleSize.max() == s.styleSize.max() else {
        throw PicassoError.badInput("\(path) was trained under another objective than \(model) (loss layers, weights or painting size); compare it on its own")
      }
      snapshots.append((path, other, Stylizer(net: other.net), []))
    }
    Interrupt.install()

    var results: [PhotoResult] = []
    var sheetRows: [[(image: RGBImage?, label: [String])]] = [[(painting, ["PAINTING", (style as NSString).lastPathComponent])]]
    for (index, path) in photos.enumerated() {
      let photo = try RGBImage.read(path).resized(longSide: size)
      let prior = recorded?.run(of: path)
      if let recorded {
        guard let prior else { throw PicassoError.badInput("--curves \(curves!) has no optimiser run for \(path) (it has \(recorded.photos.map { ($0.photo as NSString).lastPathComponent }.joined(separator: ", ")))") }
        guard prior.width == photo.width, prior.height == photo.height, !prior.slowTotals.isEmpty else {
          throw PicassoError.badInput("--curves \(curves!) ran the optimiser on \(prior.photo) at \(prior.width)×\(prior.height), not \(photo.width)×\(photo.height)")
        }
      }
      let content = photo.tensor()
      objective.setContent(content)
      func output(_ method: String, _ iterations: Int?, _ seconds: Double, _ image: RGBImage, _ l: LossReport) -> Output {
        Output(method: method, iterations: iterations, seconds: seconds, content: l.content, style: l.style, styleByLayer: l.styleByLayer,
               tv: l.tv, total: l.total, ssim: ImageMetrics.ssimLuminance(image, photo),
               histogramDistance: ImageMetrics.colorHistogramDistance(image, painting))
      }

      // Timed as a camera filter runs over a folder: warm, the fastest of a few passes (the
      // machine is shared). The untimed first pass takes the buffers for this photo's size
      // from the system (about 2 s more at 512², first photo).
      var fastTensor = stylizer.outputTensor(photo)
      var fastImage = RGBImage(tensor: fastTensor)
      let fastSeconds = Measure.seconds(repeats: Self.fastPasses, warmup: 0) {
        fastTensor = stylizer.outputTensor(photo)
        fastImage = RGBImage(tensor: fastTensor)
      }.first!
      let fast = output("fast", nil, fastSeconds, fastImage, objective.evaluate(fastTensor))
      for k in snapshots.indices { snapshots[k].totals.append(objective.evaluate(snapshots[k].stylizer.outputTensor(photo)).total) }
      let name = (path as NSString).lastPathComponent
      printErr(String(format: "compare: %d/%d %@ (%d×%d): fast %.2f s, loss %@", index + 1, photos.count, name,
                      photo.width, photo.height, fastSeconds, fmt(fast.total)))

      // The optimiser, recording its loss at every iteration and its state at the listed ones
      // (or its recorded losses, from --curves).
      let slowStart = Date()
      var totals: [Double] = prior?.slowTotals ?? [], slow: [Output] = [], images: [RGBImage] = []
      var pending = prior == nil ? counts : []
      let run = try pending.isEmpty ? nil : GatysOptimization(
        objective: objective,
        image: initialImage(startingImage, content: content, width: photo.width, height: photo.height, seed: startingSeed),
        method: .lbfgs, learningRate: 1, history: 100)
      let bar = pending.isEmpty ? nil : ProgressBar(total: counts.last!, unit: "it")
      while let next = pending.first, let run {
        if Interrupt.requested { throw ExitCode(130) }
        if run.iteration < next && !run.converged {
          let l = run.step()
          totals.append(l.total)
          bar?.update(run.iteration, status: "L-BFGS loss \(fmt(l.total))")
          if run.iteration < next && !run.converged { continue }
        }
        let image = RGBImage(tensor: run.image)
        slow.append(output("slow", next, Date().timeIntervalSince(slowStart), image, run.finalLosses()))
        images.append(image)
        pending.removeFirst()
      }
      bar?.finish()
      let equivalent = totals.firstIndex { $0 < fast.total }.map { $0 + 1 }
      var ratio: Double?
      if let equivalent, let seconds = slow.last?.seconds ?? prior?.slow.last?.seconds {
        // The optimiser's time to that iteration: interpolated from the listed snapshots
        // (time per iteration is close to constant; from --curves, the recorded run's).
        let perIteration = seconds / Double(max(totals.count, 1))
        ratio = perIteration * Double(equivalent) / fastSeconds
      }
      printErr("compare: \(name): equivalent L-BFGS iterations " + (equivalent.map(String.init) ?? "more than \(totals.count)")
        + (ratio.map { String(format: ", speed ratio %.0f×", $0) } ?? ""))
      results.append(PhotoResult(photo: path, width: photo.width, height: photo.height, fast: fast, slow: slow, slowTotals: totals,
                                 equivalentIterations: equivalent, speedRatio: ratio))
      var row: [(image: RGBImage?, label: [String])] = [(photo, ["PHOTO", name])]
      row.append((fastImage, ["FAST \(String(format: "%.2f S", fast.seconds))", "LOSS \(fmt(fast.total))"]))
      for (o, image) in zip(slow, images) {
        row.append((image, ["SLOW@\(o.iterations!) \(String(format: "%.0f S", o.seconds))", "LOSS \(fmt(o.total))"]))
      }
      sheetRows.append(row)
    }

    try labelledSheet(sheetRows, cell: 256).write(to: output)
    let plotPath = (output as NSString).deletingPathExtension + "-loss.png"
    var series: [LinePlot.Series] = []
    for (k, r) in results.enumerated() {
      let color = LinePlot.palette[k % LinePlot.palette.count]
      let name = ((r.photo as NSString).lastPathComponent as NSString).deletingPathExtension.uppercased()
      series.append(.init(name: "\(name) L-BFGS", color: color, points: r.slowTotals.enumerated().map { (Double($0 + 1), $1) }))
      series.append(.init(name: "\(name) FAST", color: color, points: [(1, r.fast.total), (Double(max(r.slowTotals.count, 2)), r.fast.total)], dashed: true))
    }
    try LinePlot(title: "TOTAL LOSS: L-BFGS AGAINST THE MODEL", xLabel: "L-BFGS ITERATION", series: series).render().write(to: plotPath)

    let snapshotResults = snapshots.map { snap in
      SnapshotResult(
        model: snap.path, trainingMinutes: snap.model.trainingSeconds / 60, iterations: snap.model.trainHistory.last?.iteration ?? 0,
        totals: snap.totals,
        equivalentIterations: zip(snap.totals, results).map { total, r in r.slowTotals.firstIndex { $0 < total }.map { $0 + 1 } })
    }
    for r in snapshotResults {
      printErr("compare: \(r.model) (\(String(format: "%.0f", r.trainingMinutes)) min of training): equivalent L-BFGS iterations "
        + zip(r.equivalentIterations, results).map { e, p in e.map(String.init) ?? "more than \(p.slowTotals.count)" }.joined(separator: ", "))
    }
    var curvePath: String?
    var curveLines: [Curve] = []
    if !snapshotResults.isEmpty || !besideRuns.isEmpty {
      // Equivalent iterations (the mean over the photos; beyond the optimiser's last
      // iteration counted at it) against training minutes, one line per training run: the
      // models in one folder (a run's snapshots beside its model) are one run; each
      // --beside file's folders are lines of their own.
      var runs: [String: [(x: Double, y: Double)]] = [:]
      var order: [(key: String, folder: String)] = []
      let caps = results.map(\.slowTotals.count)
      let judged = [snapshotResults.map { ($0.model, $0.trainingMinutes, $0.equivalentIterations, caps) }
        + [(model, styleModel.trainingSeconds / 60, results.map(\.equivalentIterations), caps)]] + besideRuns
      for (source, models) in judged.enumerated() {
        for (path, minutes, equivalents, caps) in models {
          let folder = (path as NSString).deletingLastPathComponent, run = "\(source)\u{0}\(folder)"
          if runs[run] == nil { order.append((run, folder)) }
          let mean = zip(equivalents, caps).map { e, cap in Double(e ?? cap) }.reduce(0, +) / Double(max(caps.count, 1))
          runs[run, default: []].append((minutes, mean))
        }
      }
      curveLines = order.map { run in
        let points = runs[run.key]!.sorted { $0.x < $1.x }
        return Curve(name: (run.folder as NSString).lastPathComponent.uppercased(), minutes: points.map(\.x), meanEquivalentIterations: points.map(\.y))
      }
      let series = curveLines.enumerated().map { k, line in
        LinePlot.Series(name: line.name, color: LinePlot.palette[k % LinePlot.palette.count],
                        points: zip(line.minutes, line.meanEquivalentIterations).map { ($0, $1) })
      }
      let path = (output as NSString).deletingPathExtension + "-curve.png"
      let from = startingImage == "content" ? "PHOTO" : "NOISE"
      try LinePlot(title: "EQUIVALENT L-BFGS ITERATIONS FROM \(from), MEAN OF \(results.count)", xLabel: "TRAINING MINUTES", logY: false,
                   series: series, yFloor: 0, xFloor: 0)
        .render().write(to: path)
      curvePath = path
    }

    let result = Result(model: model, painting: style, size: size, styleSize: styleSide, contentLayers: s.contentLayers,
                        styleLayers: s.styleLayers, contentWeight: s.weights.content, styleWeight: s.weights.style,
                        tvWeight: s.weights.tv, iterations: recorded == nil ? counts : [], initialization: startingImage, seed: startingSeed, photos: results,
                        snapshots: snapshotResults, curves: curveLines)
    if let report { try writeAtomically(Data(markdown(result, sheet: output, plot: plotPath).utf8), to: report) }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      encoder.keyEncodingStrategy = .convertToSnakeCase
      print(String(decoding: try encoder.encode(result), as: UTF8.self))
    }
    printErr("compare: wrote \(output) and \(plotPath)" + (curvePath.map { " and \($0)" } ?? "") + (report.map { " and \($0)" } ?? ""))
  }

  /// The report: settings, then per photo one table row per output.
  func markdown(_ r: Result, sheet: String, plot: String) -> String {
    var md = """
      # Fast against slow

      Model `\(r.model)`, painting `\(r.painting)` at \(r.styleSize) px, photos at \(r.size) px (long side).
      Objective from the model: content \(r.contentLayers.joined(separator: ", ")) (weight \(r.contentWeight)), \
      style \(r.styleLayers.joined(separator: ", ")) (weight \(r.styleWeight)), TV weight \(r.tvWeight).
      Slow: L-BFGS from \(r.initialization == "content" ? "the photo" : "noise (seed \(r.seed))"), step 1, history 100. SSIM: luminance against the photo; \
      colour distance: Hellinger distance of RGB histograms against the painting.

      ![sheet](\((sheet as NSString).lastPathComponent)) ![loss](\((plot as NSString).lastPathComponent))

      | photo | method | seconds | content | style | TV | total | SSIM | colour distance |
      |---|---|---|---|---|---|---|---|---|

      """
    func row(_ photo: String, _ o: Output) -> String {
      let method = o.iterations.map { "L-BFGS \($0)" } ?? "fast model"
      return "| \(photo) | \(method) | \(String(format: "%.2f", o.seconds)) | \(fmt(o.content)) | \(fmt(o.style)) | \(fmt(o.tv)) | "
        + "\(fmt(o.total)) | \(String(format: "%.3f", o.ssim)) | \(String(format: "%.3f", o.histogramDistance)) |\n"
    }
    for p in r.photos {
      let name = (p.photo as NSString).lastPathComponent
      md += row(name, p.fast)
      for o in p.slow { md += row(name, o) }
    }
    md += "\n| photo | equivalent L-BFGS iterations | speed ratio (optimiser to that iteration / model) |\n|---|---|---|\n"
    for p in r.photos {
      md += "| \((p.photo as NSString).lastPathComponent) | \(p.equivalentIterations.map(String.init) ?? "more than \(p.slowTotals.count)") | "
        + "\(p.speedRatio.map { String(format: "%.0f×", $0) } ?? "–") |\n"
    }
    if !r.snapshots.isEmpty {
      md += "\n| model | training minutes | iterations | equivalent L-BFGS iterations (" + r.photos.map { ($0.photo as NSString).lastPathComponent }.joined(separator: ", ") + ") |\n|---|---|---|---|\n"
      for snap in r.snapshots {
        let eq = zip(snap.equivalentIterations, r.photos).map { e, p in e.map(String.init) ?? ">\(p.slowTotals.count)" }.joined(separator: ", ")
        md += "| `\(snap.model)` | \(String(format: "%.1f", snap.trainingMinutes)) | \(snap.iterations) | \(eq) |\n"
      }
    }
    return md
  }
}
