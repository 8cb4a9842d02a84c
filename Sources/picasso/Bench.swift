import ArgumentParser
import Foundation
import PicassoCore

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Time the hot paths against the machine's GEMM ceiling.",
    discussion: """
      Measures cblas_sgemm on square and VGG-shaped matrices (the ceiling), then rendering \
      photos of --render-sizes as picasso stylize does (large ones in tiles), one Gatys \
      evaluation (VGG19 forward to relu5_1 and backward to the image, content relu4_2, style \
      relu1_1…relu5_1) at each --sizes, the transformation network's forward pass at 256, 512 \
      and 1024, and one training step (batch 4 at 256: network forward and backward, VGG19 \
      losses, Adam), reporting min/median/max seconds, GFLOP/s, the share of the ceiling and \
      peak memory. Build with -c release first. The training case also times picasso train's \
      own step (data, both networks, Adam) in one pass and data-parallel, in photos per second.

      Examples:
        picasso bench
        picasso bench --cases training --repeats 5
      """)

  @Option(help: "Comma-separated image sizes (square) for the Gatys evaluation.")
  var sizes: String = "256,512"

  @Option(help: "Timed repetitions per case (after one warm-up).")
  var repeats: Int = 3

  @Option(help: "Comma-separated sizes for the transformation network's forward pass.")
  var transformerSizes: String = "256,512,1024"

  @Option(help: "Comma-separated photo sizes (WIDTHxHEIGHT or a square side) for rendering with picasso stylize's renderer.")
  var renderSizes: String = "512,1024,6000x4000"

  @Option(help: "Comma-separated cases to run: gemm, render, gatys, transformer, training (default: all); also layers (the transformer's forward pass layer by layer, at --transformer-sizes).")
  var cases: String = "gemm,render,gatys,transformer,training"

  @Option(help: "The VGG19 weights (default: Models/vgg19.h5).")
  var vgg: String?

  @Option(help: "Winograd tile for the transformation network's 3×3 convs when rendering and in its forward pass: 2 for F(2×2,3×3), 4 for F(4×4,3×3) as picasso stylize, to compare the two (training always uses F(2×2); VGG19 F(4×4) on blocks 1–2, F(2×2) deeper).")
  var winogradTile: Int = 4

  @Flag(inversion: .prefixedNo, help: "When rendering and in the transformation network's forward pass, run each ×2 upsample and the 3×3 conv after it as one conv on the small map, as picasso stylize does (training never does).")
  var foldUpsampling = true

  @Option(help: "Pixels mirrored beyond each photo's edges when rendering, as picasso stylize --margin (0: none; the work is counted for the photo alone).")
  var margin = Stylizer.defaultMargin

  @Flag(help: "Print the results as JSON.")
  var json = false

  struct Row: Encodable {
    var name: String
    var seconds_min: Double
    var seconds_median: Double
    var seconds_max: Double
    var gflop: Double
    var gflops: Double
    var percent_of_ceiling: Double?
    var peak_memory_mb: Double
    /// Per timed run: buffers the compute core allocated from the system (tensor storage not
    /// reused from the pool, workspace growth) and minor page faults; a steady-state loop has
    /// none of the first and few of the second.
    var allocations_per_run: Double
    var page_faults_per_run: Double
  }

  func run() throws {
    try reportingErrors(bench)
  }

  private func bench() throws {
    let sizeList = commaList(sizes).compactMap(Int.init)
    guard !sizeList.isEmpty, sizeList.allSatisfy({ (32...2048).contains($0) }) else {
      throw PicassoError.badInput("--sizes must list sizes between 32 and 2048")
    }
    guard let tile = WinogradTile(rawValue: winogradTile) else {
      throw PicassoError.badInput("--winograd-tile must be 2 or 4, not \(winogradTile)")
    }
    let vggPath = try locateVGG(vgg)
    var rows: [Row] = []
    Measure.resetPeakMemory()
    func add(_ name: String, _ t: [Double], flop: Double, ceiling: Double?) {
      let gflops = flop / t[0] / 1e9
      let row = Row(
        name: name, seconds_min: t[0], seconds_median: t[t.count / 2], seconds_max: t[t.count - 1],
        gflop: flop / 1e9, gflops: gflops, percent_of_ceiling: ceiling.flatMap { $0 > 0 ? 100 * gflops / $0 : nil },
        peak_memory_mb: Double(Measure.peakResidentBytes) / 1048576,
        allocations_per_run: Measure.lastAllocationsPerRun, page_faults_per_run: Measure.lastPageFaultsPerRun)
      rows.append(row)
      Measure.resetPeakMemory()
      if !json {
        print(String(
          format: "%-34@ %8.3f %8.3f %8.3f s %9.1f GFLOP %7.1f GFLOP/s %@ %7.0f MB %6.0f %8.0f",
          name as NSString, row.seconds_min, row.seconds_median, row.seconds_max, row.gflop, gflops,
          (ceiling.flatMap { $0 > 0 ? String(format: "%5.1f%%", 100 * gflops / $0) : nil } ?? "      ") as NSString, row.peak_memory_mb,
          row.allocations_per_run, row.page_faults_per_run))
      }
    }
    if !json {
      print("picasso bench \(PicassoVersion.string), \(ProcessInfo.processInfo.activeProcessorCount) cores, OpenBLAS threads \(blasThreads), transformer Winograd F(\(tile.rawValue)×\(tile.rawValue), 3×3)")
      print("CPU: \(Info.cpuName); \(CPUFeatures.current)")
      print(BLASKernels.summary + "; picasso's own kernels \(VectorLevel.best)")
      print(String(format: "%-34@ %8@ %8@ %8@   %9@       %7@                        %6@ %8@", "case", "min", "median", "max", "work", "speed",
                   "allocs", "faults"))
    }

    // The ceiling: the best sgemm rate over a square and the VGG-shaped GEMMs.
    let shapes: [(String, Int, Int, Int)] = [
      ("sgemm 2048×2048×2048", 2048, 2048, 2048),
      ("sgemm conv1_2@512 (64×8192×576)", 64, 8192, 576),
      ("sgemm conv3_1@512 (256×8192×1152)", 256, 8192, 1152),
      ("sgemm conv4_2@512 (512×4096×4608)", 512, 4096, 4608),
    ]
    let selected = Set(commaList(cases))
    var ceiling = 0.0
    for (name, m, n, k) in shapes where selected.contains("gemm") {
      let (t, gflops) = gemmGFLOPS(m: m, n: n, k: k, repeats: repeats)
      ceiling = max(ceiling, gflops)
      add(name, t, flop: 2 * Double(m * n * k), ceiling: nil)
    }

    // Rendering a photo as picasso stylize does (default network, random weights; tiles
    // above 1600² pixels). The work counted is one forward pass: the tiled renderer's extra
    // statistics passes are not, so its GFLOP/s is the effective rate. Run first, so the
    // peak memory is the renderer's own. Photos over 4 megapixels are timed once.
    var rng = SplitMix64(seed: 3)
    let net = TransformerNet()
    net.initialise(using: &rng)
    net.winogradTile = tile
    net.foldsUpsampling = foldUpsampling
    for spec in commaList(renderSizes) where selected.contains("render") {
      let parts = spec.split(separator: "x").compactMap { Int($0) }
      guard (1...2).contains(parts.count), parts.allSatisfy({ (16...20000).contains($0) }) else {
        throw PicassoError.badInput("--render-sizes: '\(spec)' is not a size like 1024 or 6000x4000")
      }
      let (w, h) = (parts[0], parts.last!)
      var pixels = [UInt8](repeating: 0, count: w * h * 3)
      for i in 0..<pixels.count { pixels[i] = UInt8(truncatingIfNeeded: (i * 2654435761) >> 13) }
      let photo = RGBImage(width: w, height: h, pixels: pixels)
      pixels = []
      let stylizer = Stylizer(net: net)
      stylizer.margin = max(0, margin)
      net.winogradTile = tile  // F(4×4) as the stylizer sets it, unless --winograd-tile 2
      net.foldsUpsampling = foldUpsampling  // on, as the stylizer sets it, unless --no-fold-upsampling
      let large = w * h > 4_000_000
      Measure.resetPeakMemory()
      let t = Measure.seconds(repeats: large ? 1 : repeats, warmup: large ? 0 : 1) { _ = stylizer.render(photo) }
      add("render \(w)×\(h)\(w * h > stylizer.maxUntiledPixels ? " (tiled)" : "")", t,
          flop: net.forwardFLOP(height: h, width: w), ceiling: ceiling)
    }

    let contentLayers = ["relu4_2"], styleLayers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
    let vgg19 = try VGG(weightsFile: vggPath, taps: contentLayers + styleLayers)
    for size in sizeList where selected.contains("gatys") {
      var rng = SplitMix64(seed: 7)
      let image = Tensor(shape: [1, 3, size, size])
      for i in 0..<image.count { image.data[i] = rng.unit() }
      let style = Tensor(shape: [1, 3, size, size])
      for i in 0..<style.count { style.data[i] = rng.unit() }
      let objective = StyleObjective(
        vgg: vgg19, styles: [(style, 1)], contentLayers: contentLayers, styleLayers: styleLayers,
        weights: LossWeights(content: 1, style: 30, tv: 1))
      objective.setContent(image)
      let gradient = Tensor(shape: image.shape)
      let t = Measure.seconds(repeats: repeats) { _ = objective.evaluate(image, gradient: gradient) }
      // Forward to relu5_1 plus the input-gradient pass of the same convolutions.
      let flop = 2 * vgg19.forwardFLOP(height: size, width: size, upTo: "relu5_1")
      add("gatys evaluation \(size)×\(size)", t, flop: flop, ceiling: ceiling)
      let tf = Measure.seconds(repeats: repeats) { _ = vgg19.forward(image, taps: ["relu5_1"]) }
      add("vgg19 forward to relu5_1 \(size)×\(size)", tf, flop: vgg19.forwardFLOP(height: size, width: size, upTo: "relu5_1"), ceiling: ceiling)
    }
    // The transformation network (default architecture, random weights).
    for size in commaList(transformerSizes).compactMap(Int.init) where (32...4096).contains(size) && selected.contains("transformer") {
      let x = Tensor(shape: [1, 3, size, size])
      for i in 0..<x.count { x.data[i] = rng.unit() }
      let t = Measure.seconds(repeats: repeats) { _ = net.forward(x) }
      add("transformer forward 1×3×\(size)×\(size)", t, flop: net.forwardFLOP(height: size, width: size), ceiling: ceiling)
    }

    // The transformer's forward pass layer by layer (a residual block as one), for profiling.
    for size in commaList(transformerSizes).compactMap(Int.init) where (32...4096).contains(size) && selected.contains("layers") {
      var x = Tensor(shape: [1, 3, size, size])
      for i in 0..<x.count { x.data[i] = rng.unit() }
      for (index, layer) in net.network.layers.enumerated() {
        let input = x
        let t = Measure.seconds(repeats: repeats) { _ = layer.forward(input) }
        x = layer.forward(input)
        let flop = (layer as? Conv2D).map { c in 2.0 * Double(c.outChannels * c.inChannels * c.kernel * c.kernel * x.h * x.w) }
          ?? ((layer as? Residual)?.body as? Sequential).map { body in
            body.layers.compactMap { $0 as? Conv2D }.reduce(0.0) { $0 + 2.0 * Double($1.outChannels * $1.inChannels * 9 * x.h * x.w) }
          } ?? 0
        add("layer \(index) \(type(of: layer)) → \(x.shape.map(String.init).joined(separator: "×"))", t, flop: flop, ceiling: ceiling)
      }
    }

    // One training step: batch 4 at 256, content relu2_2, style relu1_2…relu4_3.
    if selected.contains("training") {
      let (batch, size) = (4, 256)
      let content = ["relu2_2"], style = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]
      let lossNet = try VGG(weightsFile: vggPath, taps: content + style)
      let painting = Tensor(shape: [1, 3, size, size])
      for i in 0..<painting.count { painting.data[i] = rng.unit() }
      let objective = StyleObjective(vgg: lossNet, styles: [(painting, 1)], contentLayers: content, styleLayers: style,
                                     weights: LossWeights(content: 1, style: 30, tv: 1))
      let photos = Tensor(shape: [batch, 3, size, size])
      for i in 0..<photos.count { photos.data[i] = rng.unit() }
      let adam = Adam()
      net.winogradTile = .f2  // as picasso train
      net.foldsUpsampling = false
      let gradient = Tensor(shape: photos.shape)
      let t = Measure.seconds(repeats: repeats) {
        objective.setContent(photos)
        net.zeroGradients()
        let y = net.forward(photos)
        _ = objective.evaluate(y, gradient: gradient)
        _ = net.backward(photos, gradient)
        adam.step(net.parameters, net.gradients)
      }
      // Network forward, and backward for inputs and weights (3×); VGG forward to relu4_3
      // and back to the image (2×), plus the content pass to relu2_2.
      let flop = Double(batch) * (3 * net.forwardFLOP(height: size, width: size)
        + 2 * lossNet.forwardFLOP(height: size, width: size, upTo: "relu4_3")
        + lossNet.forwardFLOP(height: size, width: size, upTo: "relu2_2"))
      add("training step 4×3×256×256", t, flop: flop, ceiling: ceiling)
    }

    // Training throughput as picasso train runs it (Trainer: data, step, Adam), batch 4 at 256
    // on random photos, in one pass over the batch and data-parallel over the cores.
    if selected.contains("training") {
      let dir = FileManager.default.temporaryDirectory.appendingPathComponent("picasso-bench-\(getpid())").path
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: dir) }
      var photos: [String] = []
      for i in 0..<6 {
        let pixels = (0..<(288 * 288 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        photos.append("\(dir)/p\(i).png")
        try RGBImage(width: 288, height: 288, pixels: pixels).write(to: photos[i])
      }
      _ = try PhotoDataset.build(photos: photos, sources: [dir], output: "\(dir)/d.h5", size: 256, valCount: 1, seed: 1)
      let data = try DatasetReader("\(dir)/d.h5")
      let painting = RGBImage(width: 256, height: 256, pixels: (0..<(256 * 256 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
      var settings = StyleModel.Settings()
      settings.styleSize = [256, 256]
      settings.weights = LossWeights(content: 1, style: 5, tv: 1)
      // Batch 4 in one pass (the default until data-parallel steps), then data-parallel at
      // batch 4 and at the default batch.
      for (batch, workers) in [(4, 1), (4, computeThreads), (settings.batchSize, computeThreads)] {
        var s = settings
        s.batchSize = batch
        let trainer = try Trainer(model: StyleModel(settings: s), dataset: data, style: painting, vggPath: vggPath, workers: workers)
        let t = Measure.seconds(repeats: repeats) { _ = try? trainer.step() }
        let flop = Double(batch) * (3 * net.forwardFLOP(height: 256, width: 256)
          + 2 * vgg19.forwardFLOP(height: 256, width: 256, upTo: "relu4_3") + vgg19.forwardFLOP(height: 256, width: 256, upTo: "relu2_2"))
        add("train b\(batch) \(trainer.workers == 1 ? "1 pass" : "\(trainer.workers) threads"), \(String(format: "%.2f", Double(batch) / t[t.count / 2])) photo/s",
            t, flop: flop, ceiling: ceiling)
      }
    }

    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
      struct Report: Encodable {
        var version: String, cpu: String, vector_extensions: String, openblas_core: String, own_kernels: String
        var ceiling_gflops: Double, results: [Row]
      }
      let report = Report(version: PicassoVersion.string, cpu: Info.cpuName, vector_extensions: CPUFeatures.current.description,
                          openblas_core: BLASKernels.coreName, own_kernels: VectorLevel.best.name, ceiling_gflops: ceiling,
                          results: rows)
      print(String(decoding: try encoder.encode(report), as: UTF8.self))
    } else {
      print(String(format: "ceiling (best sgemm above): %.1f GFLOP/s", ceiling))
    }
  }
}
