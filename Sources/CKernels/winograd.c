// Winograd row transforms, one copy per vector level (winograd_body.h), chosen per call.

#include "CKernels.h"
#include "targets.h"

#include <stddef.h>

#define KERNEL(name) name##_plain
#include "winograd_body.h"
#undef KERNEL

#pragma clang attribute push(__attribute__((target(PICASSO_TARGET_AVX2))), apply_to = function)
#define KERNEL(name) name##_avx2
#include "winograd_body.h"
#undef KERNEL
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target(PICASSO_TARGET_AVX512))), apply_to = function)
#define KERNEL(name) name##_avx512
#include "winograd_body.h"
#undef KERNEL
#pragma clang attribute pop

void picasso_winograd_input(int m, const float *const *d, float *e, int span, int tiles_x, float *v, ptrdiff_t stride,
                            int level) {
  switch (picasso_vector_level_capped(level)) {
    case 2: (m == 2 ? input_f2_avx512 : input_f4_avx512)(d, e, span, tiles_x, v, stride); break;
    case 1: (m == 2 ? input_f2_avx2 : input_f4_avx2)(d, e, span, tiles_x, v, stride); break;
    default: (m == 2 ? input_f2_plain : input_f4_plain)(d, e, span, tiles_x, v, stride); break;
  }
}

void picasso_winograd_output(int m, const float *s, ptrdiff_t stride, float *a, int tiles_x, int rows, float bias,
                             float *dst, int width, int level) {
  switch (picasso_vector_level_capped(level)) {
    case 2: (m == 2 ? output_f2_avx512 : output_f4_avx512)(s, stride, a, tiles_x, rows, bias, dst, width); break;
    case 1: (m == 2 ? output_f2_avx2 : output_f4_avx2)(s, stride, a, tiles_x, rows, bias, dst, width); break;
    default: (m == 2 ? output_f2_plain : output_f4_plain)(s, stride, a, tiles_x, rows, bias, dst, width); break;
  }
}

void picasso_winograd_weights(const float *w, ptrdiff_t w_stride, int count, int flip, const float *g, int alpha,
                              float *u, ptrdiff_t u_stride, int level) {
  switch (picasso_vector_level_capped(level)) {
    case 2: weights_avx512(w, w_stride, count, flip, g, alpha, u, u_stride); break;
    case 1: weights_avx2(w, w_stride, count, flip, g, alpha, u, u_stride); break;
    default: weights_plain(w, w_stride, count, flip, g, alpha, u, u_stride); break;
  }
}
