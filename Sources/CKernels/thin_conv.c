// Direct convolution for convs with at most 4 output channels, or (forward only) with few
// input channels (see CKernels.h). The GEMM
// formulation of such a conv has 3 rows: every column of the im2col matrix is written, packed
// and read again for 3 multiply-adds, so it runs at a tenth of the ceiling. Here the outputs of
// a block of 3 vectors of columns (24 with AVX2, 48 with AVX-512) × cout channels stay in
// registers while the taps stream past.

#include "CKernels.h"
#include "targets.h"

#include <immintrin.h>
#include <stddef.h>

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

// MARK: - AVX2 + FMA (8 floats), AVX-512 (16 floats): thin_conv_body.h

#pragma clang attribute push(__attribute__((target(PICASSO_TARGET_AVX2))), apply_to = function)
static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_hadd_ps(s, s);
  s = _mm_hadd_ps(s, s);
  return _mm_cvtss_f32(s);
}
#define KERNEL(name) name##_avx2
#define VEC __m256
#define VW 8
#define VLOAD _mm256_loadu_ps
#define VSTORE _mm256_storeu_ps
#define VFMA _mm256_fmadd_ps
#define VSET1 _mm256_set1_ps
#define VZERO _mm256_setzero_ps
#define VHSUM hsum8
#define NV3 3
#define NV4 2
#include "thin_conv_body.h"
#undef KERNEL
#undef VEC
#undef VW
#undef VLOAD
#undef VSTORE
#undef VFMA
#undef VSET1
#undef VZERO
#undef VHSUM
#undef NV3
#undef NV4
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target(PICASSO_TARGET_AVX512))), apply_to = function)
#define KERNEL(name) name##_avx512
#define VEC __m512
#define VW 16
#define VLOAD _mm512_loadu_ps
#define VSTORE _mm512_storeu_ps
#define VFMA _mm512_fmadd_ps
#define VSET1 _mm512_set1_ps
#define VZERO _mm512_setzero_ps
#define VHSUM _mm512_reduce_add_ps
// 6 and 4 vectors (24 and 20 of the 32 registers) were no faster on Skylake-SP (2026-12-01:
// the 32 → 3 conv at 512² 0.059–0.062 s against 0.057–0.061 s, the 3 → 32 one 0.039–0.057 s
// against 0.035 s).
#define NV3 3
#define NV4 2
#include "thin_conv_body.h"
#undef KERNEL
#pragma clang attribute pop

// MARK: - Entry points

// `level` caps the vector level (picasso_vector_level): an argument, not a global, so that a
// test forcing the plain path cannot change the rounding of other work running beside it (the
// resume test needs identical bits).

void picasso_conv_thin_forward(const float *xp, int cin, int hp, int wp, const float *w, int cout, int k,
                               float *y, int hout, int wout, int row0, int row1, int level) {
  switch (picasso_vector_level_capped(level)) {
    case 2: forward_avx512(xp, cin, hp, wp, w, cout, k, y, hout, wout, row0, row1); break;
    case 1: forward_avx2(xp, cin, hp, wp, w, cout, k, y, hout, wout, row0, row1); break;
    default:
      for (int oy = row0; oy < row1; oy++) forward_plain(xp, cin, hp, wp, w, cout, k, y, hout, wout, oy, 0, wout);
  }
}

void picasso_conv_thin_weight_gradient(const float *xp, int hp, int wp, const float *dy, int cout, int k,
                                       int hout, int wout, float *dw, int cin, int c0, int c1, int level) {
  switch (picasso_vector_level_capped(level)) {
    case 2: weight_gradient_avx512(xp, hp, wp, dy, cout, k, hout, wout, dw, cin, c0, c1); break;
    case 1: weight_gradient_avx2(xp, hp, wp, dy, cout, k, hout, wout, dw, cin, c0, c1); break;
    default:
      for (int c = c0; c < c1; c++) weight_gradient_plain(xp, hp, wp, dy, cout, k, hout, wout, dw, cin, c, 0);
  }
}
