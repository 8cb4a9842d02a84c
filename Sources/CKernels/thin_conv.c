// Direct convolution for convs with at most 4 output channels, or (forward only) with few
// input channels (see CKernels.h). The GEMM
// formulation of such a conv has 3 rows: every column of the im2col matrix is written, packed
// and read again for 3 multiply-adds, so it runs at a tenth of the ceiling. Here the outputs of
// a block of 24 columns × cout channels stay in registers while the taps stream past.

#include "CKernels.h"

#include <immintrin.h>
#include <stddef.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

// MARK: - Plain C (the reference, and the path for CPUs without AVX2)

static void forward_plain(const float *xp, int cin, int hp, int wp, const float *w, int cout, int k,
                          float *y, int hout, int wout, int oy, int ox0, int ox1) {
  for (int o = 0; o < cout; o++) {
    for (int ox = ox0; ox < ox1; ox++) {
      float s = y[((size_t)o * hout + oy) * wout + ox];
      for (int c = 0; c < cin; c++)
        for (int ky = 0; ky < k; ky++) {
          const float *row = xp + ((size_t)c * hp + oy + ky) * wp + ox;
          const float *wk = w + (((size_t)o * cin + c) * k + ky) * k;
          for (int kx = 0; kx < k; kx++) s += wk[kx] * row[kx];
        }
      y[((size_t)o * hout + oy) * wout + ox] = s;
    }
  }
}

static void weight_gradient_plain(const float *xp, int hp, int wp, const float *dy, int cout, int k,
                                  int hout, int wout, float *dw, int cin, int c, int ox0) {
  for (int o = 0; o < cout; o++)
    for (int ky = 0; ky < k; ky++)
      for (int kx = 0; kx < k; kx++) {
        float s = 0;
        for (int oy = 0; oy < hout; oy++) {
          const float *row = xp + ((size_t)c * hp + oy + ky) * wp + kx;
          const float *d = dy + ((size_t)o * hout + oy) * wout;
          for (int ox = ox0; ox < wout; ox++) s += d[ox] * row[ox];
        }
        dw[(((size_t)o * cin + c) * k + ky) * k + kx] += s;
      }
}

// MARK: - AVX2 + FMA

// One block of nv×8 output columns at row oy for `no` output channels.
INLINE AVX2 void forward_block(const float *xp, int cin, int hp, int wp, const float *w, int k,
                               float *y, int hout, int wout, int oy, int ox, const int no, const int nv) {
  __m256 acc[4][3];
  for (int o = 0; o < no; o++)
    for (int v = 0; v < nv; v++) acc[o][v] = _mm256_loadu_ps(y + ((size_t)o * hout + oy) * wout + ox + 8 * v);
  const size_t wstride = (size_t)cin * k * k;
  for (int c = 0; c < cin; c++)
    for (int ky = 0; ky < k; ky++) {
      const float *row = xp + ((size_t)c * hp + oy + ky) * wp + ox;
      const float *wk = w + ((size_t)c * k + ky) * k;
      for (int kx = 0; kx < k; kx++) {
        __m256 x[3];
        for (int v = 0; v < nv; v++) x[v] = _mm256_loadu_ps(row + kx + 8 * v);
        for (int o = 0; o < no; o++) {
          const __m256 b = _mm256_broadcast_ss(wk + o * wstride + kx);
          for (int v = 0; v < nv; v++) acc[o][v] = _mm256_fmadd_ps(b, x[v], acc[o][v]);
        }
      }
    }
  for (int o = 0; o < no; o++)
    for (int v = 0; v < nv; v++) _mm256_storeu_ps(y + ((size_t)o * hout + oy) * wout + ox + 8 * v, acc[o][v]);
}

INLINE AVX2 void forward_rows(const float *xp, int cin, int hp, int wp, const float *w, int cout, int k,
                              float *y, int hout, int wout, int row0, int row1, const int no, const int nv) {
  for (int oy = row0; oy < row1; oy++) {
    int ox = 0;
    for (; ox + 8 * nv <= wout; ox += 8 * nv) forward_block(xp, cin, hp, wp, w, k, y, hout, wout, oy, ox, no, nv);
    for (; ox + 8 <= wout; ox += 8) forward_block(xp, cin, hp, wp, w, k, y, hout, wout, oy, ox, no, 1);
    if (ox < wout) forward_plain(xp, cin, hp, wp, w, cout, k, y, hout, wout, oy, ox, wout);
  }
}

INLINE AVX2 void forward_group(const float *xp, int cin, int hp, int wp, const float *w, int no, const int k,
                               float *y, int hout, int wout, int row0, int row1) {
  switch (no) {
    case 1: forward_rows(xp, cin, hp, wp, w, no, k, y, hout, wout, row0, row1, 1, 3); break;
    case 2: forward_rows(xp, cin, hp, wp, w, no, k, y, hout, wout, row0, row1, 2, 3); break;
    case 3: forward_rows(xp, cin, hp, wp, w, no, k, y, hout, wout, row0, row1, 3, 3); break;
    default: forward_rows(xp, cin, hp, wp, w, no, k, y, hout, wout, row0, row1, 4, 2); break;
  }
}

// Output channels in groups of up to 4 (one group for the thin last conv; 8 for the first
// 9×9 conv, 3 → 32, whose few input channels make im2col and packing the larger cost). The
// network's 9×9 kernels get a constant k, so that the tap loop unrolls (about 8 % faster).
static AVX2 void forward_avx2(const float *xp, int cin, int hp, int wp, const float *w, int cout, int k,
                              float *y, int hout, int wout, int row0, int row1) {
  for (int o0 = 0; o0 < cout; o0 += 4) {
    const int no = cout - o0 < 4 ? cout - o0 : 4;
    const float *wo = w + (size_t)o0 * cin * k * k;
    float *yo = y + (size_t)o0 * hout * wout;
    if (k == 9) forward_group(xp, cin, hp, wp, wo, no, 9, yo, hout, wout, row0, row1);
    else forward_group(xp, cin, hp, wp, wo, no, k, yo, hout, wout, row0, row1);
  }
}

INLINE AVX2 float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_hadd_ps(s, s);
  s = _mm_hadd_ps(s, s);
  return _mm_cvtss_f32(s);
}

// dw for taps kx0 ..< kx0 + nk of row ky, input channel c, output channels o0 ..< o0 + no,
// over the columns that fill whole vectors (the rest is left to the plain tail).
INLINE AVX2 void weight_gradient_group(const float *xp, int hp, int wp, const float *dy, int k, int hout, int wout,
                                       float *dw, int cin, int c, int ky, int kx0, int o0, const int no, const int nk) {
  __m256 acc[4][3];
  for (int o = 0; o < no; o++)
    for (int j = 0; j < nk; j++) acc[o][j] = _mm256_setzero_ps();
  const int whole = wout / 8 * 8;
  for (int oy = 0; oy < hout; oy++) {
    const float *row = xp + ((size_t)c * hp + oy + ky) * wp + kx0;
    const float *d = dy + ((size_t)o0 * hout + oy) * wout;
    const size_t plane = (size_t)hout * wout;
    for (int ox = 0; ox < whole; ox += 8) {
      __m256 x[3];
      for (int j = 0; j < nk; j++) x[j] = _mm256_loadu_ps(row + ox + j);
      for (int o = 0; o < no; o++) {
        const __m256 g = _mm256_loadu_ps(d + o * plane + ox);
        for (int j = 0; j < nk; j++) acc[o][j] = _mm256_fmadd_ps(g, x[j], acc[o][j]);
      }
    }
  }
  for (int o = 0; o < no; o++)
    for (int j = 0; j < nk; j++) dw[((((size_t)(o0 + o)) * cin + c) * k + ky) * k + kx0 + j] += hsum(acc[o][j]);
}

static AVX2 void weight_gradient_avx2(const float *xp, int hp, int wp, const float *dy, int cout, int k,
                                      int hout, int wout, float *dw, int cin, int c0, int c1) {
  for (int c = c0; c < c1; c++) {
    for (int ky = 0; ky < k; ky++)
      for (int o0 = 0; o0 < cout; o0 += 3) {
        const int no = cout - o0 < 3 ? cout - o0 : 3;
        int kx = 0;
        for (; kx + 3 <= k; kx += 3) {
          if (no == 3) weight_gradient_group(xp, hp, wp, dy, k, hout, wout, dw, cin, c, ky, kx, o0, 3, 3);
          else if (no == 2) weight_gradient_group(xp, hp, wp, dy, k, hout, wout, dw, cin, c, ky, kx, o0, 2, 3);
          else weight_gradient_group(xp, hp, wp, dy, k, hout, wout, dw, cin, c, ky, kx, o0, 1, 3);
        }
        for (; kx < k; kx++) {
          if (no == 3) weight_gradient_group(xp, hp, wp, dy, k, hout, wout, dw, cin, c, ky, kx, o0, 3, 1);
          else if (no == 2) weight_gradient_group(xp, hp, wp, dy, k, hout, wout, dw, cin, c, ky, kx, o0, 2, 1);
          else weight_gradient_group(xp, hp, wp, dy, k, hout, wout, dw, cin, c, ky, kx, o0, 1, 1);
        }
      }
    if (wout % 8) weight_gradient_plain(xp, hp, wp, dy, cout, k, hout, wout, dw, cin, c, wout / 8 * 8);
  }
}

// MARK: - Entry points

// The CPU check runs once at load time, before any thread of a parallel loop reads it. The
// choice of the plain path is an argument, not a global, so that a test forcing it cannot
// change the rounding of other work running beside it (the resume test needs identical bits).
static int supported = 0;

__attribute__((constructor)) static void detect_cpu(void) {
  __builtin_cpu_init();
  supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

int picasso_conv_thin_vectorized(void) { return supported; }

void picasso_conv_thin_forward(const float *xp, int cin, int hp, int wp, const float *w, int cout, int k,
                               float *y, int hout, int wout, int row0, int row1, int plain) {
  if (supported && !plain) {
    forward_avx2(xp, cin, hp, wp, w, cout, k, y, hout, wout, row0, row1);
  } else {
    for (int oy = row0; oy < row1; oy++) forward_plain(xp, cin, hp, wp, w, cout, k, y, hout, wout, oy, 0, wout);
  }
}

void picasso_conv_thin_weight_gradient(const float *xp, int hp, int wp, const float *dy, int cout, int k,
                                       int hout, int wout, float *dw, int cin, int c0, int c1, int plain) {
  if (supported && !plain) {
    weight_gradient_avx2(xp, hp, wp, dy, cout, k, hout, wout, dw, cin, c0, c1);
  } else {
    for (int c = c0; c < c1; c++) weight_gradient_plain(xp, hp, wp, dy, cout, k, hout, wout, dw, cin, c, 0);
  }
}
