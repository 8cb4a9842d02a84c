/// A grid of images on a white background: each tile is scaled to fit a square cell of
/// `cell` pixels (aspect ratio kept, centred), with `gap` pixels between cells.
public func contactSheet(_ rows: [[RGBImage?]], cell: Int, gap: Int = 8) -> RGBImage {
  labelledSheet(rows.map { $0.map { ($0, []) } }, cell: cell, gap: gap)
}

/// A contact sheet with lines of text (the built-in 5×7 font, `scale` pixels per font
/// pixel) under each tile.
public func labelledSheet(_ rows: [[(image: RGBImage?, label: [String])]], cell: Int, gap: Int = 8, scale: Int = 2) -> RGBImage {
  let columns = rows.map(\.count).max() ?? 0
  let lines = rows.flatMap { $0.map(\.label.count) }.max() ?? 0
  let labelHeight = lines == 0 ? 0 : lines * 9 * scale + 2 * scale
  let rowHeight = cell + labelHeight
  let width = columns * cell + (columns + 1) * gap, height = rows.count * rowHeight + (rows.count + 1) * gap
  var sheet = RGBImage(width: max(width, 0), height: max(height, 0), pixels: [UInt8](repeating: 255, count: max(width * height * 3, 0)))
  for (r, row) in rows.enumerated() {
    for (c, entry) in row.enumerated() {
      let left = gap + c * (cell + gap), top = gap + r * (rowHeight + gap)
      if let image = entry.image {
        let tile = image.resized(longSide: cell)
        let x0 = left + (cell - tile.width) / 2, y0 = top + (cell - tile.height) / 2
        for y in 0..<tile.height {
          let src = y * tile.width * 3, dst = ((y0 + y) * width + x0) * 3
          sheet.pixels.replaceSubrange(dst..<(dst + tile.width * 3), with: tile.pixels[src..<(src + tile.width * 3)])
        }
      }
      for (k, text) in entry.label.enumerated() {
        sheet.draw(text, x: left, y: top + cell + 2 * scale + k * 9 * scale, scale: scale)
      }
    }
  }
  return sheet
}
