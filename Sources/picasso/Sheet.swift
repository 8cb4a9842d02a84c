import ArgumentParser
import Foundation
import PicassoCore

struct Sheet: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Put images side by side in a grid (a contact sheet).",
    discussion: """
      Images fill the grid row by row, --columns per row; each is scaled to fit a square cell. \
      Use '-' for an empty cell. Headings are optional: a label above each column, a thumbnail \
      above each column (the painting of a model's column), a label left of each row.

      Examples:
        picasso sheet --columns 2 --output sheet.png a.png b.png c.png -
        picasso sheet --columns 2 --column-labels photo,starry --column-images -,starry.jpg --output s.png cat.png cat_starry.png
      """)

  @Option(help: "Images per row.")
  var columns: Int

  @Option(help: "Cell size in pixels (the long side of each tile).")
  var cell: Int = 256

  @Option(help: "Where to write the sheet (.png or .jpg).")
  var output: String

  @Option(parsing: .unconditional, help: ArgumentHelp("Comma-separated labels above the columns ('-' for none).", valueName: "labels"))
  var columnLabels: String?

  @Option(parsing: .unconditional, help: ArgumentHelp("Comma-separated images shown small above the columns ('-' for none).", valueName: "images"))
  var columnImages: String?

  @Option(parsing: .unconditional, help: ArgumentHelp("Comma-separated labels left of the rows ('-' for none).", valueName: "labels"))
  var rowLabels: String?

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
      let thumbnails = try (columnImages.map(commaList) ?? []).map { $0 == "-" ? nil : try RGBImage.read($0) }
      func labels(_ list: String?) -> [String] { (list.map(commaList) ?? []).map { $0 == "-" ? "" : $0 } }
      try headedSheet(rows, cell: cell, columnLabels: labels(columnLabels), rowLabels: labels(rowLabels),
                      columnImages: thumbnails).write(to: output)
    }
  }
}
