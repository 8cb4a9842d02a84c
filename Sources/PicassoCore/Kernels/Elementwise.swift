/// Small elementwise kernels over raw buffers.

@inline(__always)
func reluInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
  parallelFor(n, grain: 1 << 16) { r in for i in r { x[i] = max(x[i], 0) } }
}

/// g[i] = 0 where the ReLU output y[i] is not positive.
@inline(__always)
func reluBackwardInPlace(_ g: UnsafeMutablePointer<Float>, mask y: UnsafePointer<Float>, _ n: Int) {
  parallelFor(n, grain: 1 << 16) { r in for i in r where y[i] <= 0 { g[i] = 0 } }
}
