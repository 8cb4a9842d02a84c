import ArgumentParser
import Foundation
import PicassoCore

struct Sheet: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Put images side by side in a grid (a contact sheet).",
    discussion: """
      Images fill the grid row by row, --columns per row; each is scaled to fit a square cell.
      Use '-' for an empty cell. Example, a 2×2 sheet:
        picasso sheet --columns 2 --output sheet.png a.png b.png c.png -
      """)

  @Option(help: "Images per row.")
  var columns: Int

  @Option(help: "Cell size in pixels (the long side of each tile).")
  var cell: Int = 256

  @Option(help: "Where to write the sheet (.png or .jpg).")
  var output: String

  @Argument(help: "The images, row by row ('-' leaves a cell empty).")
  var images: [String]

  @OptionGroup var imageLimit: ImageLimit

  func validate() throws {
    guard columns >= 1 else { throw ValidationError("--columns must be at least 1.") }
    guard (16...4096).contains(cell) else { throw ValidationError("--cell must be between 16 and 4096.") }
    guard !images.isEmpty else { throw ValidationError("Give at least one image.") }
  }

  func run() throws {
    imageLimit.apply()
    try reportingErrors {
      try checkWritableImagePath(output)
      let loaded = try images.map { $0 == "-" ? nil : try RGBImage.read($0) }
      let rows = stride(from: 0, to: loaded.count, by: columns).map { Array(loaded[$0..<min($0 + columns, loaded.count)]) }
      try contactSheet(rows, cell: cell).write(to: output)
    }
  }
}
