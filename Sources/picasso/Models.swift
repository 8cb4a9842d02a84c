import ArgumentParser
import Foundation
import PicassoCore

struct Models: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List trained models: painting, network, size, training and final losses.",
    discussion: """
      Without arguments, lists the models in Models/ (of the current folder, or of the \
      package the executable was built in). Files that are not style models are skipped \
      there; given explicitly, they are reported.

      Examples:
        picasso models
        picasso models --json Models/starry_night.h5
      """)

  @Argument(help: "Model files or folders of them (default: Models/).")
  var paths: [String] = []

  @Flag(help: "Print one JSON object per model on stdout.")
  var json = false

  struct Entry: Codable {
    var file: String
    var painting: String
    var architecture: String
    var parameters: Int
    var megabytes: Double
    var weights: String
    var iterations: Int
    var plannedIterations: Int
    var trainingSeconds: Double
    var imageSize: Int
    var contentWeight: Float, styleWeight: Float, tvWeight: Float
    /// The grid loss's weight in training (0 for models made before it).
    var gridWeight: Float
    /// The last training batch's losses.
    var content: Double?, style: Double?, tv: Double?, total: Double?
    /// The last validation loss (the mean over the validation photos) and its iteration.
    var validation: Losses?
    /// Every validation loss: [iteration, content, style, tv, total].
    var validationHistory: [[Double]]
    var resumable: Bool
    /// For a model from picasso import: the file it came from (its painting and loss
    /// settings are unknown).
    var importedFrom: String?
  }

  struct Losses: Codable {
    var iteration: Int, content: Double, style: Double, tv: Double, total: Double
  }

  func run() throws {
    try reportingErrors(list)
  }

  private func list() throws {
    let explicit = !paths.isEmpty
    var files: [String] = []
    for path in explicit ? paths : [Models.defaultFolder()] {
      var isDir: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
        throw PicassoError.file(path, "no such file or folder")
      }
      if isDir.boolValue {
        let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".h5") }.sorted()
        files += names.map { (path as NSString).appendingPathComponent($0) }
      } else {
        files.append(path)
      }
    }
    var entries: [Entry] = []
    var failures = 0
    for file in files {
      // In Models/ itself, a file in an HDF5 format older than picasso writes (the VGG19
      // weights) is not a style model: skip it rather than report it.
      if !explicit, let version = HDF5File.superblockVersion(file), version < 2 { continue }
      do {
        entries.append(try entry(file))
      } catch {
        if explicit || !"\(error)".contains("not a picasso style model") {
          printErr("picasso: error: \(error)")
          failures += 1
        }
      }
    }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      encoder.keyEncodingStrategy = .convertToSnakeCase
      for e in entries { print(String(decoding: try encoder.encode(e), as: UTF8.self)) }
    } else if entries.isEmpty {
      print("No models found\(explicit ? "" : " in \(Models.defaultFolder())").")
    } else {
      print(table(entries))
    }
    if failures > 0 { throw ExitCode.failure }
  }

  func entry(_ file: String) throws -> Entry {
    let model = try StyleModel.load(file)
    let s = model.settings
    let last = model.trainHistory.last
    let bytes = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
    let half = (try? HDF5File(file).string("weights_dtype")) == "float16"
    return Entry(
      file: file, painting: (s.styleName as NSString).lastPathComponent, architecture: s.architecture.string,
      parameters: model.net.parameterCount, megabytes: Double(bytes) / 1e6, weights: half ? "float16" : "float32",
      iterations: last?.iteration ?? 0, plannedIterations: s.iterations, trainingSeconds: model.trainingSeconds,
      imageSize: s.imageSize, contentWeight: s.weights.content, styleWeight: s.weights.style, tvWeight: s.weights.tv,
      gridWeight: s.gridWeight, content: last?.losses.content, style: last?.losses.style, tv: last?.losses.tv, total: last?.losses.total,
      validation: model.valHistory.last.map {
        Losses(iteration: $0.iteration, content: $0.losses.content, style: $0.losses.style, tv: $0.losses.tv, total: $0.losses.total)
      },
      validationHistory: model.valHistory.map { [Double($0.iteration), $0.losses.content, $0.losses.style, $0.losses.tv, $0.losses.total] },
      resumable: model.checkpoint != nil, importedFrom: s.importedFrom.isEmpty ? nil : s.importedFrom)
  }

  func table(_ entries: [Entry]) -> String {
    let header = ["MODEL", "PAINTING", "NETWORK", "SIZE", "TRAINED", "WEIGHTS c/s/tv/grid", "LOSS (content, style, tv)"]
    let rows = entries.map { e -> [String] in
      let widths = e.architecture.split(separator: ",")
      let blocks = widths.filter { $0.hasPrefix("R") }.count
      let network = "\(widths[0].dropFirst(5))-\(widths[1].dropFirst())-\(widths[2].dropFirst()), \(blocks) blocks"
      let hours = e.trainingSeconds > 0 ? String(format: ", %.1f h", e.trainingSeconds / 3600) : ""
      let trained = "\(e.iterations)/\(e.plannedIterations) it at \(e.imageSize) px\(hours)\(e.resumable ? ", resumable" : "")"
      // The validation loss where there is one (a mean over fixed photos), else the last batch's.
      let losses = e.validation.map { v in
        String(format: "%.3g (%.3g, %.3g, %.3g) validation @%d", v.total, v.content, v.style, v.tv, v.iteration)
      } ?? e.total.map { String(format: "%.3g (%.3g, %.3g, %.3g) last batch", $0, e.content!, e.style!, e.tv!) } ?? "-"
      if let source = e.importedFrom {
        return [((e.file as NSString).lastPathComponent as NSString).deletingPathExtension, "unknown", network,
                String(format: "%.1f MB %@", e.megabytes, e.weights == "float16" ? "f16" : "f32"), "imported from \(source)", "unknown", "-"]
      }
      return [((e.file as NSString).lastPathComponent as NSString).deletingPathExtension, e.painting, network,
              String(format: "%.1f MB %@", e.megabytes, e.weights == "float16" ? "f16" : "f32"), trained,
              "\(fmt(e.contentWeight))/\(fmt(e.styleWeight))/\(fmt(e.tvWeight))/\(fmt(e.gridWeight))", losses]
    }
    let all = [header] + rows
    let widths = (0..<header.count).map { c in all.map { $0[c].count }.max()! }
    return all.map { row in
      zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        .trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n")
  }

  /// Models/ in the current folder if it exists, else beside the package the executable
  /// was built in.
  static func defaultFolder() -> String {
    if FileManager.default.fileExists(atPath: "Models") { return "Models" }
    var dir = URL(fileURLWithPath: CommandLine.executablePathResolved).deletingLastPathComponent()
    for _ in 0..<5 {
      let candidate = dir.appendingPathComponent("Models").path
      if FileManager.default.fileExists(atPath: candidate) { return candidate }
      dir = dir.deletingLastPathComponent()
    }
    return "Models"
  }
}

private func fmt(_ v: Float) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
