import CKernels
/// Winograd F(m×m, 3×3) for 3×3 stride-1 convolutions (Lavin & Gray 2016, "Fast Algorithms
/// for Convolutional Neural Networks"): each m×m block of outputs comes from an α×α block of
/// input (α = m + 2) with α² multiplications per (input, output) channel pair instead of 9m².
/// F(2×2): 16 instead of 36 (2.25× fewer); F(4×4): 36 instead of 144 (4× fewer).
///
///     U = G g Gᵀ (α×α, per output/input channel pair),  V = Bᵀ d B (α×α, per input tile),
///     M[ξ] = U[ξ] · V[ξ] (α² GEMMs: [Cout × Cin] · [Cin × tiles]),  Y = Aᵀ M A (m×m).
///
/// Tiles are numbered across the images of the batch (a band of tile rows may span two
/// images), so the GEMMs stay wide on the small feature maps deep in VGG. The im2col path in
/// `Conv2D` is the plain reference both are tested against.
public enum WinogradTile: Int, Sendable, CaseIterable {
  case f2 = 2, f4 = 4

  /// Outputs per tile side (m) and inputs per tile side (α = m + 2).
  var m: Int { rawValue }
  var alpha: Int { rawValue + 2 }
  /// The α² transformed points, one GEMM each.
  public var points: Int { alpha * alpha }

  /// G (α×3), row-major (constants, so that the weight transform of every training step
  /// allocates nothing).
  fileprivate var g: [Float] { self == .f2 ? Self.g2 : Self.g4 }
  private static let g2: [Float] = [1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1]
  private static let g4: [Float] = [0.25, 0, 0, -1 / 6, -1 / 6, -1 / 6, -1 / 6, 1 / 6, -1 / 6,
                                    1 / 24, 1 / 12, 1 / 6, 1 / 24, -1 / 12, 1 / 6, 0, 0, 1]
}

/// U[ξ, o, i] = (G g Gᵀ)[ξ] for the kernel g = w[o, i] ([O, I, 3, 3]). With `transposed`,
/// the result is for the input gradient: U[ξ, i, o] = (G rot180(w[o, i]) Gᵀ)[ξ], the kernel of
/// the stride-1 convolution that maps dY to dX. A row of U (fixed o, or fixed i when
/// transposed) at a time, in CKernels at `level`.
func winogradWeights(
  _ w: UnsafePointer<Float>, outChannels: Int, inChannels: Int, transposed: Bool, tile: WinogradTile,
  into u: UnsafeMutablePointer<Float>, level: VectorLevel
) {
  let pairs = outChannels * inChannels
  let (alpha, level) = (Int32(tile.alpha), Int32(level.rawValue))
  // Row r of U holds `inner` kernels: w[r, q] (9 floats apart) or, transposed, w[q, r] (9·I apart).
  let (outer, inner) = transposed ? (inChannels, outChannels) : (outChannels, inChannels)
  let (rowStart, kernelStride) = transposed ? (9, 9 * inChannels) : (9 * inChannels, 9)
  tile.g.withUnsafeBufferPointer { gm in
    parallelFor(outer) { rows in
      for r in rows {
        picasso_winograd_weights(w + r * rowStart, kernelStride, Int32(inner), transposed ? 1 : 0, gm.baseAddress!, alpha,
                                 u + r * inner, pairs, level)
      }
    }
  }
}

/// Floats of workspace a band of `rows` tile rows needs (V and M).
@inline(__always)
private func winogradBandFloats(_ g: ConvGeometry, outChannels: Int, rows: Int, tile: WinogradTile) -> Int {
  tile.points * (g.channels + outChannels) * rows * ((g.outWidth + tile.m - 1) / tile.m)
}

/// y = conv3×3(x) + bias for a batch: x [batch, Cin, H, W] with the padding of `g` (stride 1,
/// kernel 3, any pad), u from `winogradWeights` with the same tile ([α², Cout, Cin]), y
/// [batch, Cout, Hout, Wout] overwritten. `bias` nil means zero. Workspace slots `slot` and
/// `slot + 1` hold V and M for a band of tile rows of about `bandBytes`.
func winogradConv3x3(
  _ x: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry, u: UnsafePointer<Float>, tile: WinogradTile,
  outChannels: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
  workspace: Workspace, slot: Int, bandBytes: Int, level: VectorLevel
) {
  precondition(g.kernel == 3 && g.stride == 1, "Winograd F(m×m,3×3) needs a 3×3 stride-1 conv.")
  let (cin, cout, m, points) = (g.channels, outChannels, tile.m, tile.points)
  let (hOut, wOut) = (g.outHeight, g.outWidth)
  let (tilesY, tilesX) = ((hOut + m - 1) / m, (wOut + m - 1) / m)
  let totalRows = batch * tilesY
  let perRow = winogradBandFloats(g, outChannels: cout, rows: 1, tile: tile) * MemoryLayout<Float>.size
  let band = max(1, min(totalRows, bandBytes / perRow))
  let v = workspace.buffer(slot, count: points * cin * band * tilesX)
  let mm = workspace.buffer(slot + 1, count: points * cout * band * tilesX)
  var r0 = 0
  while r0 < totalRows {
    let r1 = min(totalRows, r0 + band)
    let tiles = (r1 - r0) * tilesX
    winogradInput(x, g, tile: tile, rows: r0, r1, tilesY: tilesY, tilesX: tilesX, into: v, stride: cin * tiles, level: level)
    for xi in 0..<points {
      gemm(m: cout, n: tiles, k: cin, a: u + xi * cout * cin, lda: cin,
           b: v + xi * cin * tiles, ldb: tiles, c: mm + xi * cout * tiles, ldc: tiles)
    }
    winogradOutput(mm, tile: tile, stride: cout * tiles, rows: r0, r1, tilesY: tilesY, tilesX: tilesX,
                   outChannels: cout, height: hOut, width: wOut, bias: bias, into: y, level: level)
    r0 = r1
  }
}

/// V[ξ, c, t] = (Bᵀ d B)[ξ] for every input channel c and tile t of global tile rows r0..<r1;
/// `stride` is the distance between the ξ planes (Cin · tiles).
///
/// Row-wise, so the loops vectorise (CKernels, at `level`): the α padded input rows of a tile row are staged
/// (padding applied once, zeros past the padded image, whose outputs are dropped), combined
/// into Bᵀ d over the whole row, and then each tile's columns give its α² values, written to
/// α² contiguous runs of V. The staged rows are α slots kept from one tile row to the next of
/// the same image: the two rows that adjacent tile rows share are staged once.
private func winogradInput(
  _ x: UnsafePointer<Float>, _ g: ConvGeometry, tile: WinogradTile, rows r0: Int, _ r1: Int, tilesY: Int, tilesX: Int,
  into v: UnsafeMutablePointer<Float>, stride: Int, level: VectorLevel
) {
  let level = Int32(level.rawValue)
  let (C, H, W, p) = (g.channels, g.height, g.width, g.pad)
  let (m, alpha) = (tile.m, tile.alpha)
  let tiles = (r1 - r0) * tilesX
  let span = m * tilesX + 2  // staged columns: input columns −p ..< −p + span
  let reflect = g.padding == .reflect
  // A staged row's key: image · rowsPerImage + m · ty + k (k < α) for row k of tile row ty,
  // which grows with the global tile row, so a key below the current tile row's first is no
  // longer needed.
  let rowsPerImage = m * tilesY + alpha
  parallelFor(C) { channels in
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * alpha * span) { scratch in
    withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: alpha) { staged in
    withUnsafeTemporaryAllocation(of: Int.self, capacity: alpha) { held in
      let d = scratch.baseAddress!, e = d + alpha * span
      for c in channels {
        held.initialize(repeating: Int.min)
        var t = c * tiles
        for r in r0..<r1 {
          let (image, ty) = (r / tilesY, r % tilesY)
          let plane = x + (image * C + c) * H * W
          let first = image * rowsPerImage + m * ty
          for k in 0..<alpha {
            if let slot = held.firstIndex(of: first + k) {
              staged[k] = UnsafePointer(d + slot * span)
              continue
            }
            let slot = held.firstIndex { $0 < first }!
            held[slot] = first + k
            let dst = d + slot * span
            staged[k] = UnsafePointer(dst)
            var iy = m * ty - p + k
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
          picasso_winograd_input(Int32(m), staged.baseAddress!, e, Int32(span), Int32(tilesX), v + t, stride, level)
          t += tilesX
        }
      }
    }
    }
    }
  }
}

/// Y = Aᵀ M A + bias for every output channel and tile of global tile rows r0..<r1, writing
/// only the outputs inside the image; row-wise like the input transform.
private func winogradOutput(
  _ mm: UnsafePointer<Float>, tile: WinogradTile, stride: Int, rows r0: Int, _ r1: Int, tilesY: Int, tilesX: Int,
  outChannels: Int, height: Int, width: Int, bias: UnsafePointer<Float>?,
  into y: UnsafeMutablePointer<Float>, level: VectorLevel
) {
  let level = Int32(level.rawValue)
  let tiles = (r1 - r0) * tilesX
  let (m, alpha) = (tile.m, tile.alpha)
  parallelFor(outChannels) { channels in
    // a[k][j][tx] = (Aᵀ M)[k][j] of tile tx: m rows × α columns, each a run over the tiles.
    withUnsafeTemporaryAllocation(of: Float.self, capacity: m * alpha * tilesX) { scratch in
      let a = scratch.baseAddress!
      for o in channels {
        let b = bias?[o] ?? 0
        var t = o * tiles
        for r in r0..<r1 {
          let (image, ty) = (r / tilesY, r % tilesY)
          let plane = y + (image * outChannels + o) * height * width
          let rows = min(m, height - m * ty)
          picasso_winograd_output(Int32(m), mm + t, stride, a, Int32(tilesX), Int32(rows), b, plane + m * ty * width,
                                  Int32(width), level)
          t += tilesX
        }
      }
    }
  }
}

/// dW += ∂L/∂w for y = conv3×3(x) with dY = ∂L/∂y, by F(2×2,3×3) whatever tile the forward
/// pass used: Y = Aᵀ M A and M[ξ] = U[ξ] V[ξ] give ∂L/∂M = A dY Aᵀ per tile, then
/// ∂L/∂U[ξ] = Σ_tiles ∂L/∂M[ξ] · V[ξ]ᵀ (16 GEMMs [Cout × tiles] · [tiles × Cin], 2.25× fewer
/// multiplications than im2col's), and U = G w Gᵀ gives dW = Gᵀ (∂L/∂U) G.
/// x [batch, Cin, H, W] with the padding of `g`, dy [batch, Cout, Hout, Wout], dw [Cout, Cin, 3, 3].
/// Workspace slots `slot`, `slot + 1` hold V and ∂L/∂M for a band of tile rows of about
/// `bandBytes`, `slot + 2` the 16 · Cout · Cin sums.
func winogradWeightGradient3x3(
  _ x: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry, dy: UnsafePointer<Float>, outChannels: Int,
  addingInto dw: UnsafeMutablePointer<Float>, workspace: Workspace, slot: Int, bandBytes: Int, level: VectorLevel
) {
  precondition(g.kernel == 3 && g.stride == 1, "Winograd F(m×m,3×3) needs a 3×3 stride-1 conv.")
  let tile = WinogradTile.f2
  let (cin, cout, points) = (g.channels, outChannels, tile.points)
  let (hOut, wOut) = (g.outHeight, g.outWidth)
  let (tilesY, tilesX) = ((hOut + 1) / 2, (wOut + 1) / 2)
  let totalRows = batch * tilesY
  let perRow = winogradBandFloats(g, outChannels: cout, rows: 1, tile: tile) * MemoryLayout<Float>.size
  let band = max(1, min(totalRows, bandBytes / perRow))
  let v = workspace.buffer(slot, count: points * cin * band * tilesX)
  let dm = workspace.buffer(slot + 1, count: points * cout * band * tilesX)
  let du = workspace.buffer(slot + 2, count: points * cout * cin)
  var r0 = 0
  while r0 < totalRows {
    let r1 = min(totalRows, r0 + band)
    let tiles = (r1 - r0) * tilesX
    winogradInput(x, g, tile: tile, rows: r0, r1, tilesY: tilesY, tilesX: tilesX, into: v, stride: cin * tiles, level: level)
    winogradOutputGradientF2(dy, rows: r0, r1, tilesY: tilesY, tilesX: tilesX, outChannels: cout, height: hOut, width: wOut,
                             into: dm, stride: cout * tiles)
    for xi in 0..<points {
      gemm(transB: true, m: cout, n: cin, k: tiles, a: dm + xi * cout * tiles, lda: tiles,
           b: v + xi * cin * tiles, ldb: tiles, beta: r0 == 0 ? 0 : 1, c: du + xi * cout * cin, ldc: cin)
    }
    r0 = r1
  }
  // dW[o, i] += Gᵀ dU G, G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].
  let pairs = cout * cin
  parallelFor(pairs, grain: 256) { range in
    for p in range {
      // T = dU G (4×3): row a, from dU's row (u0, u1, u2, u3), is (u0 + ½(u1 + u2), ½(u1 − u2), ½(u1 + u2) + u3).
      func row(_ a: Int) -> SIMD3<Float> {
        let u = du + p + 4 * a * pairs
        let (u0, u1, u2, u3) = (u[0], u[pairs], u[2 * pairs], u[3 * pairs])
        return SIMD3(u0 + 0.5 * (u1 + u2), 0.5 * (u1 - u2), 0.5 * (u1 + u2) + u3)
      }
      let (t0, t1, t2, t3) = (row(0), row(1), row(2), row(3))
      let d = dw + p * 9
      func add(_ r: Int, _ value: SIMD3<Float>) {
        for c in 0..<3 { d[3 * r + c] += value[c] }
      }
      add(0, t0 + 0.5 * (t1 + t2))
      add(1, 0.5 * (t1 - t2))
      add(2, 0.5 * (t1 + t2) + t3)
    }
  }
}

/// ∂L/∂M[ξ, o, t] = (A dY Aᵀ)[ξ] for F(2×2) (A = [1 0; 1 1; 1 −1; 0 −1]) for every output channel
/// and tile of global tile rows r0..<r1; outputs past the image's edge count as zero.
private func winogradOutputGradientF2(
  _ dy: UnsafePointer<Float>, rows r0: Int, _ r1: Int, tilesY: Int, tilesX: Int, outChannels: Int, height: Int, width: Int,
  into dm: UnsafeMutablePointer<Float>, stride: Int
) {
  let tiles = (r1 - r0) * tilesX
  let full = width / 2
  parallelFor(outChannels) { channels in
    // h[k][b][tx]: row k of the tile, across: (c0, c0 + c1, c0 − c1, −c1).
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * tilesX) { scratch in
      let h = scratch.baseAddress!
      for o in channels {
        var t = o * tiles
        for r in r0..<r1 {
          let (image, ty) = (r / tilesY, r % tilesY)
          let plane = dy + (image * outChannels + o) * height * width
          for k in 0..<2 {
            let hk = h + 4 * k * tilesX
            let (h0, h1, h2, h3) = (hk, hk + tilesX, hk + 2 * tilesX, hk + 3 * tilesX)
            guard 2 * ty + k < height else {
              hk.update(repeating: 0, count: 4 * tilesX)
              continue
            }
            let row = plane + (2 * ty + k) * width
            for tx in 0..<full {
              let (c0, c1) = (row[2 * tx], row[2 * tx + 1])
              h0[tx] = c0
              h1[tx] = c0 + c1
              h2[tx] = c0 - c1
              h3[tx] = -c1
            }
            if full < tilesX {
              let c0 = row[2 * full]
              (h0[full], h1[full], h2[full], h3[full]) = (c0, c0, c0, 0)
            }
          }
          for b in 0..<4 {
            let (a0, a1) = (h + b * tilesX, h + (4 + b) * tilesX)
            let o0 = dm + t + b * stride, o1 = o0 + 4 * stride, o2 = o1 + 4 * stride, o3 = o2 + 4 * stride
            for tx in 0..<tilesX {
              let (p, q) = (a0[tx], a1[tx])
              o0[tx] = p
              o1[tx] = p + q
              o2[tx] = p - q
              o3[tx] = -q
            }
          }
          t += tilesX
        }
      }
    }
  }
}
