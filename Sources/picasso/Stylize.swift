import ArgumentParser
import Dispatch
import Foundation
import PicassoCore

struct Stylize: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Paint photos and folders of photos with a trained model, in one forward pass each.",
    discussion: """
      Each output has exactly its photo's size (EXIF orientation applied). Folders are searched \
      recursively for JPEG and PNG files and mirrored under --output-dir; other files are \
      skipped. Outputs that already exist are skipped unless --overwrite, so an interrupted \
      folder run can simply be started again. Large photos are rendered in tiles whose \
      instance-norm statistics come from the whole photo, so memory stays bounded and no \
      seams appear. The exit status is 0 only if every photo was rendered.

      Examples:
        picasso stylize --model Models/starry_night.h5 photo.jpg
        picasso stylize --model Models/starry_night.h5 --output-dir painted --format jpg holiday/
        picasso stylize --model Models/starry_night.h5 --shard 2/8 --output-dir painted archive/
      """)

  @Option(help: "The trained model (.h5 from picasso train).")
  var model: String

  @Argument(help: "Photos and folders of photos.")
  var inputs: [String]

  @Option(help: "Where the outputs go (created if missing).")
  var outputDir = "stylized"

  @Option(help: "Output format: png or jpg.")
  var format = "png"

  @Option(help: "JPEG quality, 1…100.")
  var quality = 92

  @Option(help: "Shrink photos whose longer side exceeds this many pixels first (default: keep each photo's size).")
  var maxSize: Int?

  @Option(help: "How much of the painting to apply: 1 is the model's output, 0 the photo.")
  var strength: Float = 1

  @Flag(help: "Keep the photo's colours and take only the painting's light and texture (luminance).")
  var preserveColor = false

  @Flag(help: "Replace outputs that already exist.")
  var overwrite = false

  @Flag(help: "Print one JSON line per rendered photo on stdout (input, output, width, height, seconds).")
  var json = false

  @Option(help: "Side in pixels of the tiles large photos are rendered in (a multiple of 4; memory grows with its square).")
  var tileSize = 512

  @Option(help: ArgumentHelp(
    "Pixels of each photo mirrored beyond its edges before the network and cropped off after (0: the photo as it is, as PyTorch's fast-neural-style renders it).",
    discussion: "Some trained networks paint a line along an edge they see; the margin keeps that line outside the photo."))
  var margin = Stylizer.defaultMargin

  @Option(help: ArgumentHelp(
    "Render only the I-th of N parts of the photos (1 ≤ I ≤ N), for N machines or jobs sharing one folder.",
    discussion: """
      The photos are sorted by their output path and dealt out in turn, so the parts are the \
      same whatever order files are listed in and whichever part runs first, and the N parts \
      together render every photo exactly once. Under mpirun (Open MPI) without --shard, \
      each rank takes the part of its rank.
      """,
    valueName: "I/N"))
  var shard: String?

  @OptionGroup var imageLimit: ImageLimit

  func validate() throws {
    guard ["png", "jpg"].contains(format) else { throw ValidationError("--format must be png or jpg.") }
    guard (1...100).contains(quality) else { throw ValidationError("--quality must be between 1 and 100.") }
    guard (0...1).contains(strength) else { throw ValidationError("--strength must be between 0 and 1.") }
    if let maxSize { guard maxSize >= 1 else { throw ValidationError("--max-size must be at least 1.") } }
    guard tileSize >= 16, tileSize % 4 == 0 else { throw ValidationError("--tile-size must be a multiple of 4, at least 16.") }
    guard margin >= 0 else { throw ValidationError("--margin must be 0 or more pixels.") }
  }

  func run() throws {
    imageLimit.apply()
    let part: Shard?
    do {
      part = try shard.map(Shard.init(parsing:)) ?? Shard.fromMPI(ProcessInfo.processInfo.environment)
    } catch {
      throw usageError("\(error)")
    }
    try reportingErrors { try stylize(part) }
  }

  /// A --json line.
  struct Rendered: Codable {
    var input: String, output: String, width: Int, height: Int, seconds: Double
  }

  /// One photo to render and where its output goes.
  struct Job {
    var input: String
    var output: String
  }

  /// The photos named by `inputs`: files as given, folders searched recursively (their tree
  /// mirrored under the output folder).
  func jobs() throws -> [Job] {
    var result: [Job] = []
    for input in inputs {
      var isDir: ObjCBool = false
      guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else {
        throw PicassoError.file(input, "no such file or folder")
      }
      if isDir.boolValue {
        let root = (input as NSString).standardizingPath
        for path in try PhotoDataset.findPhotos(in: [root]) {
          let relative = String(path.dropFirst(root.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
          let base = ((root as NSString).lastPathComponent as NSString).appendingPathComponent(relative)
          result.append(Job(input: path, output: outputPath(base)))
        }
      } else {
        result.append(Job(input: input, output: outputPath((input as NSString).lastPathComponent)))
      }
    }
    return result
  }

  func outputPath(_ relative: String) -> String {
    ((outputDir as NSString).appendingPathComponent(relative) as NSString).deletingPathExtension + "." + format
  }

  private func stylize(_ part: Shard?) throws {
    let styleModel = try StyleModel.load(model)
    let stylizer = Stylizer(net: styleModel.net)
    stylizer.tileSide = tileSize
    stylizer.margin = margin
    let found = try jobs()
    guard !found.isEmpty else { throw PicassoError.badInput("no JPEG or PNG photos in \(inputs.joined(separator: ", "))") }
    let all = part.map { p in p.select(found, by: \.output) } ?? found
    try prepareOutputFolder()
    let todo = overwrite ? all : all.filter { !FileManager.default.fileExists(atPath: $0.output) }
    let skipped = all.count - todo.count
    printErr("stylize: \(todo.count) photo\(todo.count == 1 ? "" : "s") → \(outputDir)"
      + (part.map { " (part \($0.index)/\($0.count): \(all.count) of \(found.count) photos)" } ?? "")
      + (skipped > 0 ? " (\(skipped) already done; --overwrite to redo)" : ""))
    Interrupt.install()

    // Decoding the next photo and encoding the previous one overlap with the forward pass.
    let decoder = DispatchQueue(label: "picasso.decode"), encoder = DispatchQueue(label: "picasso.encode")
    let decoded = DispatchGroup(), encoded = DispatchGroup()
    let state = RunState()
    func startDecoding(_ index: Int) {
      guard index < todo.count else { return }
      decoded.enter()
      decoder.async {
        let result = Result { try self.load(todo[index].input) }
        state.locked { state.next = result }
        decoded.leave()
      }
    }

    let bar = ProgressBar(total: todo.count, unit: "photos", logEvery: 10)
    startDecoding(0)
    for (index, job) in todo.enumerated() {
      decoded.wait()
      let photo = state.locked { state.next! }
      if Interrupt.requested { break }
      startDecoding(index + 1)
      guard case .success(let image) = photo else {
        if case .failure(let error) = photo { state.failed(job.input, error) }
        bar.update(index + 1, status: (job.input as NSString).lastPathComponent)
        continue
      }
      let start = Date()
      var tiles: ProgressBar?
      stylizer.progress = { done, total in
        if tiles == nil { tiles = ProgressBar(total: total, unit: "tiles", logEvery: 10) }
        tiles!.update(done, status: "\((job.input as NSString).lastPathComponent), \(image.width)×\(image.height) in tiles")
      }
      let painted = stylizer.render(image)
      tiles?.finish()
      let seconds = Date().timeIntervalSince(start)
      encoded.wait()  // at most one photo waiting to be written
      encoded.enter()
      encoder.async {
        defer { encoded.leave() }
        do {
          try FileManager.default.createDirectory(
            atPath: (job.output as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
          try self.finish(painted, photo: image).write(to: job.output, quality: self.quality)
          state.locked { state.rendered += 1 }
          if self.json {
            let line = Rendered(input: job.input, output: job.output, width: image.width, height: image.height, seconds: seconds)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(line), as: UTF8.self))
            fflush(stdout)
          }
        } catch {
          state.failed(job.input, error)
        }
      }
      bar.update(index + 1, status: (job.input as NSString).lastPathComponent)
    }
    encoded.wait()
    decoded.wait()
    bar.finish()
    printErr(String(format: "stylize: %d rendered, %d failed, %d skipped in %.1f s", state.rendered, state.failures.count, skipped, bar.elapsed))
    for (path, why) in state.failures { printErr("  failed: \(path): \(why)") }
    if Interrupt.requested {
      printErr("stylize: interrupted; run the same command again to finish")
      throw ExitCode(130)
    }
    if !state.failures.isEmpty { throw ExitCode.failure }
  }

  /// Reads a photo (EXIF-upright), shrunk to --max-size if it is larger.
  func load(_ path: String) throws -> RGBImage {
    let image = try RGBImage.read(path)
    if let maxSize, max(image.width, image.height) > maxSize { return image.resized(longSide: maxSize) }
    return image
  }

  /// --preserve-color and --strength applied to the network's output.
  func finish(_ painted: RGBImage, photo: RGBImage) -> RGBImage {
    var out = preserveColor ? painted.withColors(of: photo) : painted
    if strength < 1 {
      for i in 0..<out.pixels.count {
        let v = strength * Float(out.pixels[i]) + (1 - strength) * Float(photo.pixels[i])
        out.pixels[i] = UInt8(min(max(v.rounded(), 0), 255))
      }
    }
    return out
  }

  /// Creates the output folder and checks, before any work, that files can be written in it.
  func prepareOutputFolder() throws {
    do {
      try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
    } catch {
      throw PicassoError.file(outputDir, "the output folder cannot be created")
    }
    guard access(outputDir, W_OK) == 0 else { throw PicassoError.file(outputDir, "the output folder is not writable") }
  }
}

/// What the decode and encode threads share with the main loop, behind one lock.
private final class RunState: @unchecked Sendable {
  private let lock = NSLock()
  var next: Result<RGBImage, Error>?
  var rendered = 0
  var failures: [(path: String, reason: String)] = []

  func locked<T>(_ body: () -> T) -> T {
    lock.lock()
    defer { lock.unlock() }
    return body()
  }

  func failed(_ path: String, _ error: Error) { locked { failures.append((path, reason(error))) } }
}

/// The reason in a file error, without the path (the caller prints the path).
private func reason(_ error: Error) -> String {
  if case PicassoError.file(_, let why) = error { return why }
  return "\(error)"
}

