/// Small elementwise kernels over raw buffers.

@inline(__always)
func reluInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
  parallelFor(n, grain: 1 << 16) { r in for i in r { x[i] = max(x[i], 0) } }
}

/// g[i] = 0 where the ReLU output y[i] is not positive.
@inline(__always)
func reluBackwardInPlace(_ g: UnsafeMutablePointer<Float>, mask y: UnsafePointer<Float>, _ n: Int) {
  // A select rather than a branch, so that the loop vectorises.
  parallelFor(n, grain: 1 << 16) { r in for i in r { g[i] = y[i] > 0 ? g[i] : 0 } }
}

// Reductions. A sum carried in one Double is a chain of dependent adds (4 cycles each) that
// the compiler may not reorder; these keep the same Double precision in vector lanes (eight
// partial sums), so only the order of the additions changes.

/// (Σ x[i], Σ x[i]²) over n floats, in Double.
@inline(__always)
func sumAndSumOfSquares(_ x: UnsafePointer<Float>, count n: Int) -> (Double, Double) {
  let raw = UnsafeRawPointer(x)
  var a0 = SIMD4<Double>(), a1 = a0, q0 = a0, q1 = a0, j = 0
  while j + 8 <= n {
    let v = raw.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
    let lo = SIMD4<Double>(v.lowHalf), hi = SIMD4<Double>(v.highHalf)
    a0 += lo; a1 += hi
    q0 += lo * lo; q1 += hi * hi
    j += 8
  }
  var s = (a0 + a1).sum(), s2 = (q0 + q1).sum()
  while j < n { let v = Double(x[j]); s += v; s2 += v * v; j += 1 }
  return (s, s2)
}

/// Σ x[i] over n floats, in eight partial sums (the chain of one sum's dependent adds ran at a
/// quarter of the loads' pace).
@inline(__always)
func sum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
  let raw = UnsafeRawPointer(x)
  var a = SIMD8<Float>(), j = 0
  while j + 8 <= n {
    a += raw.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
    j += 8
  }
  var s = a.sum()
  while j < n { s += x[j]; j += 1 }
  return s
}
