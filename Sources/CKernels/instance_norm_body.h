// The per-plane loops of instance norm (see Layers/InstanceNorm.swift), written once and
// compiled three times by instance_norm.c: for any x86-64 (SSE2), for AVX2 + FMA and for
// AVX-512, each under its own names (KERNEL(name)) and target attribute. Plain loops, which
// the compiler vectorises to the width the target allows; the sums are kept in double, in
// vector lanes (`reassociate` lets the compiler split each sum into partial sums, so only the
// order of the additions depends on the level).
// Not a header of its own: only instance_norm.c includes it, once per target.

// (Σ x, Σ x²) over n floats.
static void KERNEL(stats)(const float *restrict x, ptrdiff_t n, double *sum, double *sum_squares) {
#pragma clang fp reassociate(on)
  double s = 0, s2 = 0;
  for (ptrdiff_t j = 0; j < n; j++) {
    const double v = x[j];
    s += v;
    s2 += v * v;
  }
  *sum = s;
  *sum_squares = s2;
}

// y = x · scale + shift, and max(0, ·) of that with `relu`.
static void KERNEL(apply)(const float *restrict x, float *restrict y, ptrdiff_t n, float scale, float shift,
                          int relu) {
  if (relu) {
    for (ptrdiff_t j = 0; j < n; j++) {
      const float v = x[j] * scale + shift;
      y[j] = v > 0 ? v : 0;
    }
  } else {
    for (ptrdiff_t j = 0; j < n; j++) y[j] = x[j] * scale + shift;
  }
}

// g = dy, or dy masked where the fused ReLU's output y is not positive (y non-null);
// x̂ = (x − mean)·rstd. Σg and Σ g·x̂ (each product in float, the sums in double), then
// dx = γ·rstd·(g − Σg/n − x̂·Σ(g·x̂)/n): two passes over the plane, the mask applied in both
// instead of staging the masked gradient.
static void KERNEL(backward)(const float *restrict x, const float *restrict dy, const float *restrict y,
                             float *restrict dx, ptrdiff_t n, float mean, float rstd, float gamma, double *sum_g,
                             double *sum_g_xhat) {
  double a = 0, b = 0;
  {
#pragma clang fp reassociate(on)
    if (y) {
      for (ptrdiff_t j = 0; j < n; j++) {
        const float g = y[j] > 0 ? dy[j] : 0;
        a += g;
        b += g * ((x[j] - mean) * rstd);
      }
    } else {
      for (ptrdiff_t j = 0; j < n; j++) {
        const float g = dy[j];
        a += g;
        b += g * ((x[j] - mean) * rstd);
      }
    }
  }
  *sum_g = a;
  *sum_g_xhat = b;
  const float k1 = (float)a / (float)n, k2 = (float)b / (float)n, scale = gamma * rstd;
  if (y) {
    for (ptrdiff_t j = 0; j < n; j++) {
      const float g = y[j] > 0 ? dy[j] : 0;
      dx[j] = scale * (g - k1 - (x[j] - mean) * rstd * k2);
    }
  } else {
    for (ptrdiff_t j = 0; j < n; j++) dx[j] = scale * (dy[j] - k1 - (x[j] - mean) * rstd * k2);
  }
}
