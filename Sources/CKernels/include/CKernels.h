#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>

/// Direct convolution kernels for the thin layers of the transformation network, where a GEMM
/// has too few rows to pay for im2col and packing: the last 9×9 conv (32 → 3 channels),
/// and the forward pass of the first (3 → 32).
/// `xp` is one image, already padded: [cin, hp, wp] with hp = hout + k − 1, wp = wout + k − 1.
/// Weights are OIHW [cout, cin, k, k]. Every kernel here takes a `level`, the most it may use
/// of the vector levels below; it runs at the lower of that and what the CPU has (tests check
/// each path against the others).

/// y[o, oy, ox] += Σ_{c, ky, kx} w[o, c, ky, kx] · xp[c, oy + ky, ox + kx] for output rows
/// row0 ..< row1; any cout (in groups of 4), meant for cout ≤ 4 or few input channels.
void picasso_conv_thin_forward(const float *xp, int cin, int hp, int wp, const float *w, int cout, int k,
                               float *y, int hout, int wout, int row0, int row1, int level);

/// dw[o, c, ky, kx] += Σ_{oy, ox} dy[o, oy, ox] · xp[c, oy + ky, ox + kx] for input channels
/// c0 ..< c1, with cout ≤ 4.
void picasso_conv_thin_weight_gradient(const float *xp, int hp, int wp, const float *dy, int cout, int k,
                                       int hout, int wout, float *dw, int cin, int c0, int c1, int level);

/// The vector levels of this library's kernels: 0 plain C (any x86-64: SSE2, or any other
/// CPU), 1 AVX2 + FMA, 2 AVX-512 (F, BW, VL, DQ). `picasso_vector_level` is the highest this
/// CPU has and the OS enables; `picasso_vector_level_capped(l)` the lower of that and l.
int picasso_vector_level(void);
int picasso_vector_level_capped(int level);

/// Winograd F(m×m, 3×3), m = 2 or 4, the input transform of one tile row (Kernels/Winograd.swift):
/// d[0 ..< α] are the α = m + 2 staged input rows of `span` columns, e room for α rows of Bᵀ d;
/// the α² values of tile tx go to v[ξ · stride + tx].
void picasso_winograd_input(int m, const float *const *d, float *e, int span, int tiles_x, float *v, ptrdiff_t stride,
                            int level);

/// Winograd weights U = G g Gᵀ (G α×3, row-major) for `count` 3×3 kernels g at w + q · w_stride
/// (each rotated 180° with `flip`): the α² values of kernel q go to u[ξ · u_stride + q].
void picasso_winograd_weights(const float *w, ptrdiff_t w_stride, int count, int flip, const float *g, int alpha,
                              float *u, ptrdiff_t u_stride, int level);

/// Winograd F(m×m, 3×3), the output transform of one tile row: s[ξ · stride + tx] are the α²
/// products of tile tx, `a` room for m · α · tiles_x floats; writes `rows` (≤ m) rows of
/// `width` outputs at dst (row stride `width`), plus `bias`.
void picasso_winograd_output(int m, const float *s, ptrdiff_t stride, float *a, int tiles_x, int rows, float bias,
                             float *dst, int width, int level);

/// Instance norm over one plane of n floats (Layers/InstanceNorm.swift). `stats`: Σx and Σx²
/// in double. `apply`: y = x·scale + shift, then max(0, ·) with `relu`. `backward`: with
/// g = dy (masked to 0 where y ≤ 0 when y, the fused ReLU's output, is not NULL) and
/// x̂ = (x − mean)·rstd, writes Σg and Σg·x̂ (double) and dx = γ·rstd·(g − Σg/n − x̂·Σ(g·x̂)/n).
void picasso_instance_norm_stats(const float *x, ptrdiff_t n, double *sum, double *sum_squares, int level);
void picasso_instance_norm_apply(const float *x, float *y, ptrdiff_t n, float scale, float shift, int relu,
                                 int level);
void picasso_instance_norm_backward(const float *x, const float *dy, const float *y, float *dx, ptrdiff_t n,
                                    float mean, float rstd, float gamma, double *sum_g, double *sum_g_xhat,
                                    int level);

/// Marks the calling thread as one worker of a data-parallel step (calls nest): while
/// `picasso_serial()` is nonzero, the library's own loops run on this thread alone.
void picasso_serial_begin(void);
void picasso_serial_end(void);
int picasso_serial(void);

/// The vector extensions this CPU has and the OS enables (CPUID and XGETBV, through the
/// compiler's `__builtin_cpu_supports`), as bits in the order of Swift's `CPUFeatures`:
/// AVX2, FMA, AVX-512 F, BW, VL, DQ, CD, VNNI, BF16. Zero off x86.
int picasso_cpu_features(void);

#endif
