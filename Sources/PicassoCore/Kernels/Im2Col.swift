/// im2col and its adjoint col2im for one image, restricted to a band of output rows so the
/// column buffer stays bounded (a 3×3, 64-channel conv at 512×512 would need 600 MB whole).
///
/// Layout: `col` is [Cin·k·k, rows·Wout] row-major, row index (ci·k + ky)·k + kx, column index
/// (oy − oy0)·Wout + ox. Input pixel for (ci, ky, kx, oy, ox): iy = oy·s − p + ky,
/// ix = ox·s − p + kx; outside the image it is 0 (zero padding) or the mirrored pixel
/// (reflection padding, which never repeats the edge, as in PyTorch's ReflectionPad2d).

public enum Padding: String, Sendable {
  case zero, reflect
}

/// The geometry of one convolution, shared by the kernels below.
public struct ConvGeometry: Equatable, Sendable {
  public var channels: Int, height: Int, width: Int
  public var kernel: Int, stride: Int, pad: Int
  public var padding: Padding

  public var outHeight: Int { (height + 2 * pad - kernel) / stride + 1 }
  public var outWidth: Int { (width + 2 * pad - kernel) / stride + 1 }
  public var colRows: Int { channels * kernel * kernel }
}

@inline(__always)
private func reflect(_ i: Int, _ n: Int) -> Int {
  // Valid for pad < n, which Conv2D checks.
  if i < 0 { return -i }
  if i >= n { return 2 * (n - 1) - i }
  return i
}

@inline(__always)
private func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

/// The output columns ox whose input column ox·s − p + kx lies inside the image.
@inline(__always)
private func insideRange(_ g: ConvGeometry, _ kx: Int) -> (Int, Int) {
  let lo = min(g.outWidth, max(0, -floorDiv(kx - g.pad, g.stride)))
  let hi = max(lo, min(g.outWidth, floorDiv(g.width - 1 + g.pad - kx, g.stride) + 1))
  return (lo, hi)
}

/// Fills `col` for output rows (channels split over the cores) oy0..<oy1 of the image at `x` ([Cin, H, W]).
func im2col(
  _ x: UnsafePointer<Float>, _ g: ConvGeometry, rows oy0: Int, _ oy1: Int,
  into col: UnsafeMutablePointer<Float>
) {
  let (H, W, k, s, p) = (g.height, g.width, g.kernel, g.stride, g.pad)
  let wOut = g.outWidth
  let cols = (oy1 - oy0) * wOut
  parallelFor(g.channels) { channels in
    for ci in channels {
      let plane = x + ci * H * W
      for ky in 0..<k {
        for kx in 0..<k {
          var dst = col + ((ci * k + ky) * k + kx) * cols
          // ox range whose ix lands inside the image: 0 ≤ ox·s − p + kx < W.
          let (lo, hi) = insideRange(g, kx)
          for oy in oy0..<oy1 {
            var iy = oy * s - p + ky
            if iy < 0 || iy >= H {
              if g.padding == .zero {
                dst.update(repeating: 0, count: wOut)
                dst += wOut
                continue
              }
              iy = reflect(iy, H)
            }
            let row = plane + iy * W
            if g.padding == .zero {
              if lo > 0 { dst.update(repeating: 0, count: lo) }
              if hi < wOut { (dst + hi).update(repeating: 0, count: wOut - hi) }
            } else {
              for ox in 0..<lo { dst[ox] = row[reflect(ox * s - p + kx, W)] }
              for ox in hi..<wOut { dst[ox] = row[reflect(ox * s - p + kx, W)] }
            }
            if s == 1 {
              (dst + lo).update(from: row + (lo - p + kx), count: hi - lo)
            } else {
              var ix = lo * s - p + kx
              for ox in lo..<hi {
                dst[ox] = row[ix]
                ix += s
              }
            }
            dst += wOut
          }
        }
      }
    }
  }
}

/// The adjoint of `im2col`: adds each column entry back into the input position it was read
/// from (`dx` += colᵀ), for output rows oy0..<oy1.
func col2im(
  _ col: UnsafePointer<Float>, _ g: ConvGeometry, rows oy0: Int, _ oy1: Int,
  addingInto dx: UnsafeMutablePointer<Float>
) {
  let (H, W, k, s, p) = (g.height, g.width, g.kernel, g.stride, g.pad)
  let wOut = g.outWidth
  let cols = (oy1 - oy0) * wOut
  parallelFor(g.channels) { channels in
    for ci in channels {
      let plane = dx + ci * H * W
      for ky in 0..<k {
        for kx in 0..<k {
          var src = col + ((ci * k + ky) * k + kx) * cols
          let (lo, hi) = insideRange(g, kx)
          for oy in oy0..<oy1 {
            var iy = oy * s - p + ky
            if iy < 0 || iy >= H {
              if g.padding == .zero {
                src += wOut
                continue
              }
              iy = reflect(iy, H)
            }
            let row = plane + iy * W
            if g.padding == .reflect {
              for ox in 0..<lo { row[reflect(ox * s - p + kx, W)] += src[ox] }
              for ox in hi..<wOut { row[reflect(ox * s - p + kx, W)] += src[ox] }
            }
            var ix = lo * s - p + kx
            for ox in lo..<hi {
              row[ix] += src[ox]
              ix += s
            }
            src += wOut
          }
        }
      }
    }
  }
}

/// The adjoint of reflection padding by `g.pad`: adds the gradient of the padded image at
/// `padded` ([Cin, H+2p, W+2p]) into `dx` ([Cin, H, W]), each border pixel onto the pixel it
/// mirrors.
func foldReflection(_ padded: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
  let (H, W, p) = (g.height, g.width, g.pad)
  let (ph, pw) = (H + 2 * p, W + 2 * p)
  parallelFor(g.channels) { channels in
    for ci in channels {
      let src = padded + ci * ph * pw
      let dst = dx + ci * H * W
      for u in 0..<ph {
        let row = dst + reflect(u - p, H) * W
        let from = src + u * pw
        for x in 0..<W { row[x] += from[x + p] }
        for v in 0..<p {
          row[reflect(v - p, W)] += from[v]
          row[reflect(W + v, W)] += from[W + p + v]
        }
      }
    }
  }
}

/// The image at `x` ([Cin, H, W]) padded by `g.pad` on every side (zeros or the mirror image)
/// into `padded` ([Cin, H+2p, W+2p]).
func padImage(_ x: UnsafePointer<Float>, _ g: ConvGeometry, into padded: UnsafeMutablePointer<Float>) {
  let (H, W, p) = (g.height, g.width, g.pad)
  let (ph, pw) = (H + 2 * p, W + 2 * p)
  parallelFor(g.channels) { channels in
    for ci in channels {
      let src = x + ci * H * W
      let dst = padded + ci * ph * pw
      for u in 0..<ph {
        let out = dst + u * pw
        let iy = u - p
        guard g.padding == .reflect || (iy >= 0 && iy < H) else {
          out.update(repeating: 0, count: pw)
          continue
        }
        let row = src + reflect(iy, H) * W
        (out + p).update(from: row, count: W)
        for v in 0..<p {
          out[v] = g.padding == .reflect ? row[reflect(v - p, W)] : 0
          out[W + p + v] = g.padding == .reflect ? row[reflect(W + v, W)] : 0
        }
      }
    }
  }
}
