/// Winograd F(2×2, 3×3) for 3×3 stride-1 convolutions (Lavin & Gray 2016, "Fast Algorithms
/// for Convolutional Neural Networks"): each 2×2 block of outputs comes from a 4×4 block of
/// input with 16 multiplications per (input, output) channel pair instead of 36, so the GEMM
/// work falls by 2.25×.
///
///     U = G g Gᵀ (4×4, per output/input channel pair),  V = Bᵀ d Bᵀᵀ (4×4, per input tile),
///     M[ξ] = U[ξ] · V[ξ] (16 GEMMs: [Cout × Cin] · [Cin × tiles]),  Y = Aᵀ M A (2×2).
///
/// Tiles are numbered across the images of the batch (a band of tile rows may span two
/// images), so the GEMMs stay wide on the small feature maps deep in VGG. The im2col path in
/// `Conv2D` is the plain reference this one is tested against.

/// U[ξ, o, i] = (G g Gᵀ)[ξ] for the kernel g = w[o, i] ([O, I, 3, 3]). With `transposed`,
/// the result is for the input gradient: U[ξ, i, o] = (G rot180(w[o, i]) Gᵀ)[ξ], the kernel of
/// the stride-1 convolution that maps dY to dX.
func winogradWeights(
  _ w: UnsafePointer<Float>, outChannels: Int, inChannels: Int, transposed: Bool,
  into u: UnsafeMutablePointer<Float>
) {
  let pairs = outChannels * inChannels
  parallelFor(outChannels) { outs in
    for o in outs {
      for i in 0..<inChannels {
        let k = w + (o * inChannels + i) * 9
        func kernelRow(_ r: Int) -> SIMD4<Float> {
          transposed ? SIMD4(k[8 - 3 * r], k[7 - 3 * r], k[6 - 3 * r], 0) : SIMD4(k[3 * r], k[3 * r + 1], k[3 * r + 2], 0)
        }
        let (g0, g1, g2) = (kernelRow(0), kernelRow(1), kernelRow(2))
        // t = G g (4×3, rows), then U = t Gᵀ (4×4).
        let dst = u + (transposed ? i * outChannels + o : o * inChannels + i)
        func store(_ r: Int, _ t: SIMD4<Float>) {
          dst[(4 * r) * pairs] = t[0]
          dst[(4 * r + 1) * pairs] = 0.5 * (t[0] + t[1] + t[2])
          dst[(4 * r + 2) * pairs] = 0.5 * (t[0] - t[1] + t[2])
          dst[(4 * r + 3) * pairs] = t[2]
        }
        store(0, g0)
        store(1, 0.5 * (g0 + g1 + g2))
        store(2, 0.5 * (g0 - g1 + g2))
        store(3, g2)
      }
    }
  }
}

/// Floats of workspace a band of `rows` tile rows needs (V and M).
@inline(__always)
private func winogradBandFloats(_ g: ConvGeometry, outChannels: Int, rows: Int) -> Int {
  16 * (g.channels + outChannels) * rows * ((g.outWidth + 1) / 2)
}

/// y = conv3×3(x) + bias for a batch: x [batch, Cin, H, W] with the padding of `g` (stride 1,
/// kernel 3, any pad), u from `winogradWeights` ([16, Cout, Cin]), y [batch, Cout, Hout, Wout]
/// overwritten. `bias` nil means zero. Workspace slots `slot` and `slot + 1` hold V and M for
/// a band of tile rows of about `bandBytes`.
func winogradConv3x3(
  _ x: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry, u: UnsafePointer<Float>,
  outChannels: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
  workspace: Workspace, slot: Int, bandBytes: Int
) {
  precondition(g.kernel == 3 && g.stride == 1, "Winograd F(2×2,3×3) needs a 3×3 stride-1 conv.")
  let (cin, cout) = (g.channels, outChannels)
  let (hOut, wOut) = (g.outHeight, g.outWidth)
  let (tilesY, tilesX) = ((hOut + 1) / 2, (wOut + 1) / 2)
  let totalRows = batch * tilesY
  let perRow = winogradBandFloats(g, outChannels: cout, rows: 1) * MemoryLayout<Float>.size
  let band = max(1, min(totalRows, bandBytes / perRow))
  let v = workspace.buffer(slot, count: 16 * cin * band * tilesX)
  let m = workspace.buffer(slot + 1, count: 16 * cout * band * tilesX)
  var r0 = 0
  while r0 < totalRows {
    let r1 = min(totalRows, r0 + band)
    let tiles = (r1 - r0) * tilesX
    winogradInput(x, g, rows: r0, r1, tilesY: tilesY, tilesX: tilesX, into: v, stride: cin * tiles)
    for xi in 0..<16 {
      gemm(m: cout, n: tiles, k: cin, a: u + xi * cout * cin, lda: cin,
           b: v + xi * cin * tiles, ldb: tiles, c: m + xi * cout * tiles, ldc: tiles)
    }
    winogradOutput(m, stride: cout * tiles, rows: r0, r1, tilesY: tilesY, tilesX: tilesX,
                   outChannels: cout, height: hOut, width: wOut, bias: bias, into: y)
    r0 = r1
  }
}

/// V[ξ, c, t] = (Bᵀ d B)[ξ] for every input channel c and tile t of global tile rows r0..<r1;
/// `stride` is the distance between the ξ planes (Cin · tiles).
///
/// Row-wise, so the loops vectorise: the four padded input rows of a tile row are staged
/// (padding applied once, zeros past the padded image, whose outputs are dropped), combined
/// into Bᵀ d over the whole row, and then each tile's columns give its 16 values, written to
/// 16 contiguous runs of V.
private func winogradInput(
  _ x: UnsafePointer<Float>, _ g: ConvGeometry, rows r0: Int, _ r1: Int, tilesY: Int, tilesX: Int,
  into v: UnsafeMutablePointer<Float>, stride: Int
) {
  let (C, H, W, p) = (g.channels, g.height, g.width, g.pad)
  let tiles = (r1 - r0) * tilesX
  let span = 2 * tilesX + 2  // staged columns: input columns −p ..< −p + span
  let reflect = g.padding == .reflect
  parallelFor(C) { channels in
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * span) { scratch in
      let d = scratch.baseAddress!, e = d + 4 * span
      for c in channels {
        var t = c * tiles
        for r in r0..<r1 {
          let (image, ty) = (r / tilesY, r % tilesY)
          let plane = x + (image * C + c) * H * W
          for k in 0..<4 {
            var iy = 2 * ty - p + k
            let dst = d + k * span
            if reflect && iy >= -p && iy < H + p { iy = iy < 0 ? -iy : (iy >= H ? 2 * (H - 1) - iy : iy) }
            guard iy >= 0 && iy < H else {
              dst.update(repeating: 0, count: span)
              continue
            }
            let row = plane + iy * W
            // Columns −p..<0, 0..<W, W..<span−p: left padding, the row, right padding and zeros.
            let copied = min(W, span - p)
            (dst + p).update(from: row, count: copied)
            for j in 0..<p { dst[j] = reflect ? row[p - j] : 0 }
            for j in (p + copied)..<span {
              let ix = j - p
              dst[j] = reflect && ix < W + p ? row[2 * (W - 1) - ix] : 0
            }
          }
          // e = Bᵀ d over the whole staged width.
          let (d0, d1, d2, d3) = (d, d + span, d + 2 * span, d + 3 * span)
          let (e0, e1, e2, e3) = (e, e + span, e + 2 * span, e + 3 * span)
          for j in 0..<span {
            e0[j] = d0[j] - d2[j]
            e1[j] = d1[j] + d2[j]
            e2[j] = d2[j] - d1[j]
            e3[j] = d1[j] - d3[j]
          }
          // Each tile's columns 2tx..2tx+3 of row k give V[4k ..< 4k + 4].
          for k in 0..<4 {
            let ek = e + k * span
            let out0 = v + 4 * k * stride + t, out1 = out0 + stride, out2 = out1 + stride, out3 = out2 + stride
            for tx in 0..<tilesX {
              let c0 = ek[2 * tx], c1 = ek[2 * tx + 1], c2 = ek[2 * tx + 2], c3 = ek[2 * tx + 3]
              out0[tx] = c0 - c2
              out1[tx] = c1 + c2
              out2[tx] = c2 - c1
              out3[tx] = c1 - c3
            }
          }
          t += tilesX
        }
      }
    }
  }
}

/// Y = Aᵀ M A + bias for every output channel and tile of global tile rows r0..<r1, writing
/// only the outputs inside the image; row-wise like the input transform.
private func winogradOutput(
  _ m: UnsafePointer<Float>, stride: Int, rows r0: Int, _ r1: Int, tilesY: Int, tilesX: Int,
  outChannels: Int, height: Int, width: Int, bias: UnsafePointer<Float>?,
  into y: UnsafeMutablePointer<Float>
) {
  let tiles = (r1 - r0) * tilesX
  parallelFor(outChannels) { channels in
    // a[k][j][tx] = (Aᵀ M)[k][j] of tile tx: 2 rows × 4 columns, each a run over the tiles.
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * tilesX) { scratch in
      let a = scratch.baseAddress!
      for o in channels {
        let b = bias?[o] ?? 0
        var t = o * tiles
        for r in r0..<r1 {
          let (image, ty) = (r / tilesY, r % tilesY)
          let plane = y + (image * outChannels + o) * height * width
          for j in 0..<4 {
            let s0 = m + j * stride + t, s1 = s0 + 4 * stride, s2 = s1 + 4 * stride, s3 = s2 + 4 * stride
            let a0 = a + j * tilesX, a1 = a + (4 + j) * tilesX
            for tx in 0..<tilesX {
              a0[tx] = s0[tx] + s1[tx] + s2[tx]
              a1[tx] = s1[tx] - s2[tx] - s3[tx]
            }
          }
          let oy = 2 * ty
          for k in 0..<2 where oy + k < height {
            let (q0, q1, q2, q3) = (a + 4 * k * tilesX, a + (4 * k + 1) * tilesX, a + (4 * k + 2) * tilesX, a + (4 * k + 3) * tilesX)
            let dst = plane + (oy + k) * width
            let full = width / 2
            for tx in 0..<full {
              dst[2 * tx] = q0[tx] + q1[tx] + q2[tx] + b
              dst[2 * tx + 1] = q1[tx] - q2[tx] - q3[tx] + b
            }
            if full < tilesX { dst[2 * full] = q0[full] + q1[full] + q2[full] + b }
          }
          t += tilesX
        }
      }
    }
  }
}
