import ArgumentParser
import Foundation
import PicassoCore

struct Dataset: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Turn folders of photos into an HDF5 training set for picasso train.",
    discussion: """
      Each photo (JPEG or PNG, found recursively) is turned upright by its EXIF orientation, \
      scaled so its shorter side is --size and centre-cropped, and stored as uint8 [N, 3, S, S] \
      in train/images or val/images. Unreadable files are skipped and listed.

      Examples:
        picasso dataset --images ~/photos --output Datasets/photos-256.h5
        picasso dataset --images ~/photos --photo-size 512 --crops-per-image 6 --output Datasets/photos-512.h5 --exclude test/*.png
      """)

  @Option(help: "A folder of photos (searched recursively); repeat for several.")
  var images: [String]

  @Option(help: "The dataset file to write (.h5).")
  var output: String

  @Option(help: "Side of the square crops in pixels.")
  var size: Int = 256

  @Option(help: "Photos kept for validation (default: 3%, at least 4).")
  var valCount: Int?

  @Option(help: "Crops per training photo: 1 is the centre; more add random crops of a larger scale (for small collections).")
  var cropsPerImage: Int = 1

  @Option(help: ArgumentHelp(
    "Scale each photo so its longer side is this many pixels, and take every crop at that scale (default: crops of a random larger scale).",
    discussion: "The size photos will be rendered at: the network then learns from objects of the size it will paint.",
    valueName: "pixels"))
  var photoSize: Int?

  @Option(parsing: .upToNextOption, help: ArgumentHelp(
    "Leave out photos with the same contents as these files: keep the photos a model is judged on out of its training set.",
    valueName: "file"))
  var exclude: [String] = []

  @Option(help: "Random seed for the shuffle and the crops.")
  var seed: UInt64 = 0

  @OptionGroup var imageLimit: ImageLimit

  func validate() throws {
    guard !images.isEmpty else { throw ValidationError("Give at least one --images folder.") }
    guard (16...2048).contains(size) else { throw ValidationError("--size must be between 16 and 2048, not \(size).") }
    guard (1...64).contains(cropsPerImage) else { throw ValidationError("--crops-per-image must be between 1 and 64.") }
    if let valCount, valCount < 1 { throw ValidationError("--val-count must be at least 1.") }
    if let photoSize { guard (size...8192).contains(photoSize) else { throw ValidationError("--photo-size must be between --size (\(size)) and 8192.") } }
  }

  func run() throws {
    imageLimit.apply()
    try reportingErrors {
      let found = try PhotoDataset.findPhotos(in: images)
      let excluded = try exclude.map { path -> Data in
        guard let data = FileManager.default.contents(atPath: path) else { throw PicassoError.file(path, "cannot read the file to exclude") }
        return data
      }
      let photos = excluded.isEmpty ? found : found.filter { path in
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
        return !excluded.contains { $0.count == size && FileManager.default.contents(atPath: path) == $0 }
      }
      if found.count > photos.count { printErr("dataset: left out \(found.count - photos.count) photos equal to an --exclude file") }
      guard !photos.isEmpty else {
        throw PicassoError.badInput("no JPEG or PNG photos in \(images.joined(separator: ", "))")
      }
      let val = valCount ?? max(4, Int((Double(photos.count) * 0.03).rounded()))
      guard val < photos.count else {
        throw PicassoError.badInput("\(photos.count) photos are too few for \(val) validation photos and a training set")
      }
      try checkWritableFile(output)
      printErr("dataset: \(photos.count) photos → \(output) (\(size)×\(size), \(val) for validation)")
      let bar = ProgressBar(total: photos.count, unit: "photos")
      let summary = try PhotoDataset.build(
        photos: photos, sources: images, output: output, size: size, valCount: val, cropsPerImage: cropsPerImage,
        photoSide: photoSize, seed: seed) { bar.update($0) }
      bar.finish()
      for (path, reason) in summary.skipped { printErr("skipped \(path): \(reason)") }
      printErr(String(format: "dataset: %d train and %d validation images, %d skipped, %.1f MB in %.1f s",
                      summary.train, summary.val, summary.skipped.count, Double(summary.bytes) / 1e6, bar.elapsed))
    }
  }
}
