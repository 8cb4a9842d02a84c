#ifndef CKERNELS_H
#define CKERNELS_H

/// Direct convolution kernels for the thin layers of the transformation network, where a GEMM
/// has too few rows to pay for im2col and packing: the last 9×9 conv (32 → 3 channels),
/// and the forward pass of the first (3 → 32).
/// `xp` is one image, already padded: [cin, hp, wp] with hp = hout + k − 1, wp = wout + k − 1.
/// Weights are OIHW [cout, cin, k, k]. AVX2/FMA where the CPU has it, plain C otherwise or
/// where `plain` is nonzero (tests check one path against the other).

/// y[o, oy, ox] += Σ_{c, ky, kx} w[o, c, ky, kx] · xp[c, oy + ky, ox + kx] for output rows
/// row0 ..< row1; any cout (in groups of 4), meant for cout ≤ 4 or few input channels.
void picasso_conv_thin_forward(const float *xp, int cin, int hp, int wp, const float *w, int cout, int k,
                               float *y, int hout, int wout, int row0, int row1, int plain);

/// dw[o, c, ky, kx] += Σ_{oy, ox} dy[o, oy, ox] · xp[c, oy + ky, ox + kx] for input channels
/// c0 ..< c1, with cout ≤ 4.
void picasso_conv_thin_weight_gradient(const float *xp, int hp, int wp, const float *dy, int cout, int k,
                                       int hout, int wout, float *dw, int cin, int c0, int c1, int plain);

/// 1 when this CPU has AVX2 and FMA, so the vectorised kernels run unless `plain` is given.
int picasso_conv_thin_vectorized(void);

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
