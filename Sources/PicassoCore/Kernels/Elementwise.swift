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
