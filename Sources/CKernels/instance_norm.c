// Instance norm's per-plane loops, one copy per vector level (instance_norm_body.h), chosen
// per call. The package's Swift code is built for baseline x86-64, where these loops ran
// one float at a time (the masked ones) or four.

#include "CKernels.h"
#include "targets.h"

#include <stddef.h>

#define KERNEL(name) in_##name##_plain
#include "instance_norm_body.h"
#undef KERNEL

#pragma clang attribute push(__attribute__((target(PICASSO_TARGET_AVX2))), apply_to = function)
#define KERNEL(name) in_##name##_avx2
#include "instance_norm_body.h"
#undef KERNEL
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target(PICASSO_TARGET_AVX512))), apply_to = function)
#define KERNEL(name) in_##name##_avx512
#include "instance_norm_body.h"
#undef KERNEL
#pragma clang attribute pop

void picasso_instance_norm_stats(const float *x, ptrdiff_t n, double *sum, double *sum_squares, int level) {
  switch (picasso_vector_level_capped(level)) {
    case 2: in_stats_avx512(x, n, sum, sum_squares); break;
    case 1: in_stats_avx2(x, n, sum, sum_squares); break;
    default: in_stats_plain(x, n, sum, sum_squares); break;
  }
}

void picasso_instance_norm_apply(const float *x, float *y, ptrdiff_t n, float scale, float shift, int relu,
                                 int level) {
  switch (picasso_vector_level_capped(level)) {
    case 2: in_apply_avx512(x, y, n, scale, shift, relu); break;
    case 1: in_apply_avx2(x, y, n, scale, shift, relu); break;
    default: in_apply_plain(x, y, n, scale, shift, relu); break;
  }
}

void picasso_instance_norm_backward(const float *x, const float *dy, const float *y, float *dx, ptrdiff_t n,
                                    float mean, float rstd, float gamma, double *sum_g, double *sum_g_xhat,
                                    int level) {
  switch (picasso_vector_level_capped(level)) {
    case 2: in_backward_avx512(x, dy, y, dx, n, mean, rstd, gamma, sum_g, sum_g_xhat); break;
    case 1: in_backward_avx2(x, dy, y, dx, n, mean, rstd, gamma, sum_g, sum_g_xhat); break;
    default: in_backward_plain(x, dy, y, dx, n, mean, rstd, gamma, sum_g, sum_g_xhat); break;
  }
}
