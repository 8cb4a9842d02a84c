/// A grid of images on a white background: each tile is scaled to fit a square cell of
/// `cell` pixels (aspect ratio kept, centred), with `gap` pixels between cells.
public func contactSheet(_ rows: [[RGBImage?]], cell: Int, gap: Int = 8) -> RGBImage {
  let columns = rows.map(\.count).max() ?? 0
  let width = columns * cell + (columns + 1) * gap, height = rows.count * cell + (rows.count + 1) * gap
  var pixels = [UInt8](repeating: 255, count: max(width * height * 3, 0))
  for (r, row) in rows.enumerated() {
    for (c, image) in row.enumerated() {
      guard let image else { continue }
      let tile = image.resized(longSide: cell)
      let x0 = gap + c * (cell + gap) + (cell - tile.width) / 2
      let y0 = gap + r * (cell + gap) + (cell - tile.height) / 2
      for y in 0..<tile.height {
        let src = y * tile.width * 3, dst = ((y0 + y) * width + x0) * 3
        pixels.replaceSubrange(dst..<(dst + tile.width * 3), with: tile.pixels[src..<(src + tile.width * 3)])
      }
    }
  }
  return RGBImage(width: width, height: height, pixels: pixels)
}
