/// A ×2 nearest-neighbour upsample followed by a 3×3 stride-1 conv with reflection padding
/// (the transformation network's "u" layers), computed on the small map without making the
/// upsampled one: 4/9 of the multiplications, and no map 4× the input's size.
///
/// With U the upsampled map, U[y] = X[⌊y/2⌋], the output row 2i + a (a ∈ {0, 1}) reads U rows
/// 2i + a − 1, 2i + a, 2i + a + 1, which are X rows {i − 1, i, i} for a = 0 and {i, i, i + 1}
/// for a = 1: two rows of X, with the kernel rows that land on the same X row summed. Columns
/// alike. So each of the four output parities (a, b) is a 2×2 conv of X:
///
///     Y[co, 2i + a, 2j + b] = bias[co] + Σ_{ci, u, v} F[(a, b, co), (ci, u, v)] · X[ci, i − 1 + a + u, j − 1 + b + v]
///
/// with F[(a, b, co), (ci, u, v)] = Σ over the kernel rows ky ∈ taps(a, u) and columns
/// kx ∈ taps(b, v) of W[co, ci, ky, kx]. Reflection padding of U by one is U[−1] = U[1] = X[0]
/// and U[2h] = U[2h − 2] = X[h − 1]: edge padding of X. The 2×2 windows at the (h + 1)×(w + 1)
/// positions p, q (rows p − 1, p and columns q − 1, q of the edge-padded X) serve all four
/// parities at once: output (2i + a, 2j + b) is window (i + a, j + b). So one im2col of the 2×2
/// windows ([4·Cin, (h + 1)(w + 1)]) and one GEMM with the four parities' weights stacked
/// ([4·Cout, 4·Cin]) give every output, and a scatter interleaves them (and adds the bias).
/// The plain reference is `Upsample2x` followed by `Conv2D` (tested against each other).

/// The kernel rows (or columns) that land on the small map's row i − 1 + a + u.
@inline(__always)
private func taps(_ a: Int, _ u: Int) -> ClosedRange<Int> {
  switch (a, u) {
  case (0, 0): 0...0
  case (0, _): 1...2
  case (_, 0): 0...1
  default: 2...2
  }
}

/// F [4·Cout, 4·Cin] from W [Cout, Cin, 3, 3]: row (2a + b)·Cout + co, column (ci·2 + u)·2 + v.
func upsampleConvWeights(_ w: UnsafePointer<Float>, outChannels: Int, inChannels: Int, into f: UnsafeMutablePointer<Float>) {
  let k = 4 * inChannels
  for a in 0..<2 {
    for b in 0..<2 {
      for co in 0..<outChannels {
        let row = f + ((2 * a + b) * outChannels + co) * k
        for ci in 0..<inChannels {
          let kernel = w + (co * inChannels + ci) * 9
          for u in 0..<2 {
            for v in 0..<2 {
              var s: Float = 0
              for ky in taps(a, u) {
                for kx in taps(b, v) { s += kernel[3 * ky + kx] }
              }
              row[(ci * 2 + u) * 2 + v] = s
            }
          }
        }
      }
    }
  }
}

/// The ×2 upsample and 3×3 reflection-padded conv of `x` ([N, Cin, h, w]) into `y`
/// ([N, Cout, 2h, 2w]), with `f` from `upsampleConvWeights`. Window rows go in bands of about
/// `bandBytes` of columns (workspace slots 0 and 1).
func upsampleConv3x3(
  _ x: UnsafePointer<Float>, batch: Int, channels cin: Int, height h: Int, width w: Int,
  f: UnsafePointer<Float>, outChannels cout: Int, bias: UnsafePointer<Float>,
  into y: UnsafeMutablePointer<Float>, workspace: Workspace, bandBytes: Int
) {
  let wq = w + 1
  let rowsPerBand = max(1, min(h + 1, bandBytes / (4 * cin * wq * MemoryLayout<Float>.size)))
  let col = workspace.buffer(0, count: 4 * cin * rowsPerBand * wq)
  let out = workspace.buffer(1, count: 4 * cout * rowsPerBand * wq)
  for n in 0..<batch {
    let xn = x + n * cin * h * w, yn = y + n * cout * 4 * h * w
    var p0 = 0
    while p0 <= h {
      let p1 = min(h + 1, p0 + rowsPerBand)
      let cols = (p1 - p0) * wq
      // The 2×2 windows at positions p0..<p1 (rows) × 0...w (columns) of the edge-padded map.
      parallelFor(cin) { channels in
        for ci in channels {
          let plane = xn + ci * h * w
          for u in 0..<2 {
            for v in 0..<2 {
              var dst = col + ((ci * 2 + u) * 2 + v) * cols
              for p in p0..<p1 {
                let row = plane + min(max(p - 1 + u, 0), h - 1) * w
                if v == 0 {
                  dst[0] = row[0]
                  (dst + 1).update(from: row, count: w)
                } else {
                  dst.update(from: row, count: w)
                  dst[w] = row[w - 1]
                }
                dst += wq
              }
            }
          }
        }
      }
      gemm(m: 4 * cout, n: cols, k: 4 * cin, a: f, lda: 4 * cin, b: col, ldb: cols, c: out, ldc: cols)
      // Output row 2i + a comes from window row p = i + a.
      parallelFor(cout) { outs in
        for co in outs {
          let plane = yn + co * 4 * h * w
          let b = bias[co]
          for p in p0..<p1 {
            for a in 0..<2 where p - a >= 0 && p - a < h {
              let dst = plane + (2 * (p - a) + a) * 2 * w
              let even = out + (2 * a * cout + co) * cols + (p - p0) * wq
              let odd = out + ((2 * a + 1) * cout + co) * cols + (p - p0) * wq + 1
              for j in 0..<w {
                dst[2 * j] = even[j] + b
                dst[2 * j + 1] = odd[j] + b
              }
            }
          }
        }
      }
      p0 = p1
    }
  }
}
