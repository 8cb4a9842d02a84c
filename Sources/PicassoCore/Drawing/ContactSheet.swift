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
      if let image = entry.image { sheet.paste(image, fittedInto: left, top, width: cell, height: cell) }
      for (k, text) in entry.label.enumerated() {
        sheet.draw(text, x: left, y: top + cell + 2 * scale + k * 9 * scale, scale: scale)
      }
    }
  }
  return sheet
}

/// A contact sheet with headings: `columnImages` (thumbnails, half a cell high; a painting
/// above each model's column) and `columnLabels` above the columns, `rowLabels` at the left
/// of the rows. Text is drawn at `cell / 128` (at least 2) pixels per font pixel, so it stays
/// readable at the sheet's own size; labels too long for a cell are cut, ending in ".".
public func headedSheet(
  _ rows: [[RGBImage?]], cell: Int, columnLabels: [String] = [], rowLabels: [String] = [],
  columnImages: [RGBImage?] = [], gap: Int = 8
) -> RGBImage {
  let scale = max(2, cell / 128)
  let lineHeight = 9 * scale
  let columns = max(rows.map(\.count).max() ?? 0, columnLabels.count, columnImages.count)
  func fit(_ text: String, _ room: Int) -> String {
    let chars = max(1, room / ((BitmapFont.width + 1) * scale))
    return text.count <= chars ? text : String(text.prefix(max(chars - 1, 0))) + "."
  }
  let labelWidth = rowLabels.isEmpty ? 0 : min(2 * cell, rowLabels.map { BitmapFont.measure($0, scale: scale) }.max()! + gap)
  let thumbHeight = columnImages.contains { $0 != nil } ? cell / 2 : 0
  let headed = thumbHeight > 0 || !columnLabels.isEmpty
  let headHeight = thumbHeight + (columnLabels.isEmpty ? 0 : lineHeight + 2 * scale) + (headed ? gap : 0)
  let width = labelWidth + columns * cell + (columns + 1) * gap
  let height = headHeight + rows.count * cell + (rows.count + 1) * gap
  var sheet = RGBImage(width: width, height: height, pixels: [UInt8](repeating: 255, count: width * height * 3))
  for c in 0..<columns {
    let left = labelWidth + gap + c * (cell + gap)
    if c < columnImages.count, let thumb = columnImages[c] { sheet.paste(thumb, fittedInto: left, gap, width: cell, height: thumbHeight) }
    if c < columnLabels.count {
      let text = fit(columnLabels[c], cell)
      sheet.draw(text, x: left + (cell - BitmapFont.measure(text, scale: scale)) / 2, y: gap + thumbHeight + scale, scale: scale)
    }
  }
  for (r, row) in rows.enumerated() {
    let top = headHeight + gap + r * (cell + gap)
    if r < rowLabels.count { sheet.draw(fit(rowLabels[r], labelWidth - gap), x: gap, y: top + (cell - 7 * scale) / 2, scale: scale) }
    for (c, image) in row.enumerated() {
      if let image { sheet.paste(image, fittedInto: labelWidth + gap + c * (cell + gap), top, width: cell, height: cell) }
    }
  }
  return sheet
}

extension RGBImage {
  /// Draws `image` scaled to fit a `width` × `height` box at (left, top), aspect ratio kept,
  /// centred (the box must lie inside this image).
  mutating func paste(_ image: RGBImage, fittedInto left: Int, _ top: Int, width boxWidth: Int, height boxHeight: Int) {
    let tile = image.width * boxHeight >= image.height * boxWidth
      ? image.resized(width: boxWidth, height: max(1, image.height * boxWidth / image.width))
      : image.resized(width: max(1, image.width * boxHeight / image.height), height: boxHeight)
    let x0 = left + (boxWidth - tile.width) / 2, y0 = top + (boxHeight - tile.height) / 2
    for y in 0..<tile.height {
      let src = y * tile.width * 3, dst = ((y0 + y) * width + x0) * 3
      pixels.replaceSubrange(dst..<(dst + tile.width * 3), with: tile.pixels[src..<(src + tile.width * 3)])
    }
  }
}
