/// Colour helpers on RGB images (BT.601 full-range YCbCr).
extension RGBImage {
  /// Luminance transfer ("original colours", Gatys et al. 2016): the luminance Y of `self`
  /// with the chroma (Cb, Cr) of `colors`, which must have the same size.
  public func withColors(of colors: RGBImage) -> RGBImage {
    precondition(colors.width == width && colors.height == height, "Colour source must match the image size.")
    var out = pixels
    for i in stride(from: 0, to: pixels.count, by: 3) {
      let (r, g, b) = (Float(pixels[i]), Float(pixels[i + 1]), Float(pixels[i + 2]))
      let y = 0.299 * r + 0.587 * g + 0.114 * b
      let (cr, cg, cbl) = (Float(colors.pixels[i]), Float(colors.pixels[i + 1]), Float(colors.pixels[i + 2]))
      let cb = -0.168736 * cr - 0.331264 * cg + 0.5 * cbl
      let crr = 0.5 * cr - 0.418688 * cg - 0.081312 * cbl
      out[i] = toByte(y + 1.402 * crr)
      out[i + 1] = toByte(y - 0.344136 * cb - 0.714136 * crr)
      out[i + 2] = toByte(y + 1.772 * cb)
    }
    return RGBImage(width: width, height: height, pixels: out)
  }
}
