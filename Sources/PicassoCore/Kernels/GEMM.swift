import COpenBLAS

/// C[M×N] = alpha·op(A)·op(B) + beta·C, row-major, through OpenBLAS's `cblas_sgemm`.
/// `lda`, `ldb`, `ldc` are the row strides of the stored (untransposed) matrices.
///
/// With beta 0, C is cleared here (memset, on every core for a large C) and OpenBLAS is asked
/// to accumulate (beta 1): OpenBLAS 0.3.21 clears C itself with one scalar store per float
/// (`sgemm_beta`), which took 9 % of a training step, whose Winograd products write C four
/// times the output's size. The result is the same bit for bit.
@inline(__always)
func gemm(
  transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
  alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
  b: UnsafePointer<Float>, ldb: Int,
  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
  var beta = beta
  if beta == 0 {
    parallelFor(m, grain: max(1, (1 << 16) / max(n, 1))) { rows in
      if ldc == n {
        (c + rows.lowerBound * n).update(repeating: 0, count: rows.count * n)
      } else {
        for row in rows { (c + row * ldc).update(repeating: 0, count: n) }
      }
    }
    beta = 1
  }
  cblas_sgemm(
    CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// The number of threads OpenBLAS uses for one GEMM.
public var blasThreads: Int {
  get { Int(openblas_get_num_threads()) }
  set { openblas_set_num_threads(Int32(newValue)) }
}
