// The row transforms of Winograd F(2×2, 3×3) and F(4×4, 3×3) (see Kernels/Winograd.swift),
// written once and compiled three times by winograd.c: for any x86-64 (SSE2), for AVX2 + FMA
// and for AVX-512, each under its own names (KERNEL(name)) and target attribute. Plain loops
// over runs of tiles, which the compiler vectorises to the width the target allows; the
// stride-2 and stride-4 reads and writes of a tile's columns become vector shuffles.
// Not a header of its own: only winograd.c includes it, once per target.

// F(2×2): e = Bᵀ d over the 4 staged rows d[0..<4] of `span` columns, then the columns
// 2tx..2tx+3 of row k of e give V[4k ..< 4k + 4] for tile tx. Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
static void KERNEL(input_f2)(const float *const *d, float *restrict e, int span, int tiles_x,
                             float *restrict v, ptrdiff_t stride) {
  const float *restrict d0 = d[0], *restrict d1 = d[1], *restrict d2 = d[2], *restrict d3 = d[3];
  float *e0 = e, *e1 = e + span, *e2 = e + 2 * span, *e3 = e + 3 * span;
  for (int j = 0; j < span; j++) {
    e0[j] = d0[j] - d2[j];
    e1[j] = d1[j] + d2[j];
    e2[j] = d2[j] - d1[j];
    e3[j] = d1[j] - d3[j];
  }
  for (int k = 0; k < 4; k++) {
    const float *ek = e + k * span;
    float *restrict o0 = v + 4 * k * stride, *restrict o1 = o0 + stride, *restrict o2 = o1 + stride,
                    *restrict o3 = o2 + stride;
    for (int tx = 0; tx < tiles_x; tx++) {
      const float c0 = ek[2 * tx], c1 = ek[2 * tx + 1], c2 = ek[2 * tx + 2], c3 = ek[2 * tx + 3];
      o0[tx] = c0 - c2;
      o1[tx] = c1 + c2;
      o2[tx] = c2 - c1;
      o3[tx] = c1 - c3;
    }
  }
}

// F(4×4): e = Bᵀ d over the 6 staged rows d[0..<6], then the columns 4tx..4tx+5 of row k give
// V[6k ..< 6k + 6]. Bᵀ rows: [4 0 −5 0 1 0], [0 −4 −4 1 1 0], [0 4 −4 −1 1 0],
// [0 −2 −1 2 1 0], [0 2 −1 −2 1 0], [0 4 0 −5 0 1].
static void KERNEL(input_f4)(const float *const *d, float *restrict e, int span, int tiles_x,
                             float *restrict v, ptrdiff_t stride) {
  const float *restrict d0 = d[0], *restrict d1 = d[1], *restrict d2 = d[2], *restrict d3 = d[3],
                        *restrict d4 = d[4], *restrict d5 = d[5];
  float *e0 = e, *e1 = e + span, *e2 = e + 2 * span, *e3 = e + 3 * span, *e4 = e + 4 * span, *e5 = e + 5 * span;
  for (int j = 0; j < span; j++) {
    const float a1 = d1[j], a2 = d2[j], a3 = d3[j], a4 = d4[j];
    e0[j] = 4 * d0[j] - 5 * a2 + a4;
    e1[j] = a3 + a4 - 4 * (a1 + a2);
    e2[j] = a4 - a3 + 4 * (a1 - a2);
    e3[j] = a4 - a2 + 2 * (a3 - a1);
    e4[j] = a4 - a2 + 2 * (a1 - a3);
    e5[j] = 4 * a1 - 5 * a3 + d5[j];
  }
  for (int k = 0; k < 6; k++) {
    const float *ek = e + k * span;
    float *restrict o0 = v + 6 * k * stride, *restrict o1 = o0 + stride, *restrict o2 = o1 + stride,
                    *restrict o3 = o2 + stride, *restrict o4 = o3 + stride, *restrict o5 = o4 + stride;
    for (int tx = 0; tx < tiles_x; tx++) {
      const float *b = ek + 4 * tx;
      const float c0 = b[0], c1 = b[1], c2 = b[2], c3 = b[3], c4 = b[4], c5 = b[5];
      o0[tx] = 4 * c0 - 5 * c2 + c4;
      o1[tx] = c3 + c4 - 4 * (c1 + c2);
      o2[tx] = c4 - c3 + 4 * (c1 - c2);
      o3[tx] = c4 - c2 + 2 * (c3 - c1);
      o4[tx] = c4 - c2 + 2 * (c1 - c3);
      o5[tx] = 4 * c1 - 5 * c3 + c5;
    }
  }
}

// F(2×2): Y = Aᵀ M A + bias, Aᵀ = [1 1 1 0; 0 1 −1 −1]: over the rows of M (the 16 planes at
// `stride`, one run of tiles each) into a (2 × 4 runs), then over each tile's columns into
// `rows` output rows of `width` (the last tile may be cut by the image's edge).
static void KERNEL(output_f2)(const float *restrict s, ptrdiff_t stride, float *restrict a, int tiles_x, int rows,
                              float bias, float *restrict dst, int width) {
  for (int j = 0; j < 4; j++) {
    const float *s0 = s + j * stride, *s1 = s0 + 4 * stride, *s2 = s1 + 4 * stride, *s3 = s2 + 4 * stride;
    float *a0 = a + j * tiles_x, *a1 = a + (4 + j) * tiles_x;
    for (int tx = 0; tx < tiles_x; tx++) {
      a0[tx] = s0[tx] + s1[tx] + s2[tx];
      a1[tx] = s1[tx] - s2[tx] - s3[tx];
    }
  }
  const int full = width / 2;
  for (int k = 0; k < rows; k++) {
    const float *q0 = a + 4 * k * tiles_x, *q1 = q0 + tiles_x, *q2 = q1 + tiles_x, *q3 = q2 + tiles_x;
    float *row = dst + (ptrdiff_t)k * width;
    for (int tx = 0; tx < full; tx++) {
      row[2 * tx] = q0[tx] + q1[tx] + q2[tx] + bias;
      row[2 * tx + 1] = q1[tx] - q2[tx] - q3[tx] + bias;
    }
    if (full < tiles_x) row[2 * full] = q0[full] + q1[full] + q2[full] + bias;
  }
}

// F(4×4): Aᵀ rows [1 1 1 1 1 0], [0 1 −1 2 −2 0], [0 1 1 4 4 0], [0 1 −1 8 −8 1], over the
// rows of M (36 planes) into a (4 × 6 runs), then over each tile's columns.
static void KERNEL(output_f4)(const float *restrict s, ptrdiff_t stride, float *restrict a, int tiles_x, int rows,
                              float bias, float *restrict dst, int width) {
  for (int j = 0; j < 6; j++) {
    const float *s0 = s + j * stride, *s1 = s0 + 6 * stride, *s2 = s1 + 6 * stride, *s3 = s2 + 6 * stride,
                *s4 = s3 + 6 * stride, *s5 = s4 + 6 * stride;
    float *a0 = a + j * tiles_x, *a1 = a + (6 + j) * tiles_x, *a2 = a + (12 + j) * tiles_x, *a3 = a + (18 + j) * tiles_x;
    for (int tx = 0; tx < tiles_x; tx++) {
      const float p = s1[tx] + s2[tx], q = s1[tx] - s2[tx], u = s3[tx] + s4[tx], w = s3[tx] - s4[tx];
      a0[tx] = s0[tx] + p + u;
      a1[tx] = q + 2 * w;
      a2[tx] = p + 4 * u;
      a3[tx] = q + 8 * w + s5[tx];
    }
  }
  const int full = width / 4;
  for (int k = 0; k < rows; k++) {
    const float *q0 = a + 6 * k * tiles_x, *q1 = q0 + tiles_x, *q2 = q1 + tiles_x, *q3 = q2 + tiles_x,
                *q4 = q3 + tiles_x, *q5 = q4 + tiles_x;
    float *row = dst + (ptrdiff_t)k * width;
    for (int tx = 0; tx < full; tx++) {
      const float p = q1[tx] + q2[tx], r = q1[tx] - q2[tx], u = q3[tx] + q4[tx], w = q3[tx] - q4[tx];
      row[4 * tx] = q0[tx] + p + u + bias;
      row[4 * tx + 1] = r + 2 * w + bias;
      row[4 * tx + 2] = p + 4 * u + bias;
      row[4 * tx + 3] = r + 8 * w + q5[tx] + bias;
    }
    if (full < tiles_x) {
      const int tx = full, left = width - 4 * full;
      const float p = q1[tx] + q2[tx], r = q1[tx] - q2[tx], u = q3[tx] + q4[tx], w = q3[tx] - q4[tx];
      row[4 * tx] = q0[tx] + p + u + bias;
      if (left > 1) row[4 * tx + 1] = r + 2 * w + bias;
      if (left > 2) row[4 * tx + 2] = p + 4 * u + bias;
    }
  }
}

// U = G g Gᵀ for `count` kernels g (3×3) at w + q · w_stride, q < count (each reversed,
// rot180, with `flip`), the α² values of kernel q to u[ξ · u_stride + q]; G is α×3, row-major,
// α ≤ 6 (F(4×4)). In blocks of kernels, staged so that every loop runs over the block's kernels.
static void KERNEL(weights)(const float *restrict w, ptrdiff_t w_stride, int count, int flip, const float *restrict g,
                            int alpha, float *restrict u, ptrdiff_t u_stride) {
  enum { B = 64 };
  float k[9][B], t[6][3][B];
  for (int q0 = 0; q0 < count; q0 += B) {
    const int n = count - q0 < B ? count - q0 : B;
    for (int q = 0; q < n; q++) {
      const float *src = w + (q0 + q) * w_stride;
      for (int j = 0; j < 9; j++) k[j][q] = src[flip ? 8 - j : j];
    }
    for (int a = 0; a < alpha; a++) {
      const float g0 = g[3 * a], g1 = g[3 * a + 1], g2 = g[3 * a + 2];
      for (int c = 0; c < 3; c++)
        for (int q = 0; q < n; q++) t[a][c][q] = g0 * k[c][q] + g1 * k[3 + c][q] + g2 * k[6 + c][q];
    }
    for (int a = 0; a < alpha; a++)
      for (int b = 0; b < alpha; b++) {
        const float g0 = g[3 * b], g1 = g[3 * b + 1], g2 = g[3 * b + 2];
        float *restrict dst = u + (ptrdiff_t)(alpha * a + b) * u_stride + q0;
        for (int q = 0; q < n; q++) dst[q] = t[a][0][q] * g0 + t[a][1][q] * g1 + t[a][2][q] * g2;
      }
  }
}
